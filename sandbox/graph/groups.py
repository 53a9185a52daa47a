"""Group calls (spec §4.1-4.13): create, list, info, settings, delete, invite link, join requests, removals."""

from __future__ import annotations

from sandbox.config import SandboxConfig
from sandbox.errors import GraphError, invalid, webhook_error
from sandbox.graph.common import (
    INFO_FIELDS,
    MAX_GROUPS_PER_NUMBER,
    Request,
    Response,
    check_description,
    check_picture,
    check_subject,
    cursor,
    not_suspended,
    ok,
    parse_json,
    parse_multipart,
    uncursor,
)
from sandbox.simulation import Simulator
from sandbox.state import MAX_PARTICIPANTS, Group, PhoneNumber, World

# The picture's multipart field: Meta's reference body table says `profile_picture_file`, its curl sample `file`
# (Corrections C5); the sandbox takes either, as Meta's documentation allows both.
PICTURE_FIELDS = ("profile_picture_file", "file")


class GroupCalls:
    """The handlers of group calls; GraphApi routes to them with the world locked."""

    config: SandboxConfig
    world: World
    sim: Simulator

    # -- §4.1, §4.2: groups of a number --------------------------------------------------------------------------

    def create_group(self, phone: PhoneNumber, data: dict) -> Response:
        subject = check_subject(data.get("subject"))
        description = check_description(data.get("description", ""))
        mode = data.get("join_approval_mode", "auto_approve")
        if mode not in ("auto_approve", "approval_required"):
            raise invalid("Param join_approval_mode must be 'auto_approve' or 'approval_required'.")
        owned = sum(1 for g in self.world.groups.values() if g.phone_number_id == phone.phone_number_id and g.active)
        if owned + len(self.world.pending_creates) >= MAX_GROUPS_PER_NUMBER:
            raise GraphError(131211, "This business phone number has reached the maximum number of groups.")
        request_id = self.world.new_request_id()
        pending = {"request_id": request_id, "phone_number_id": phone.phone_number_id, "subject": subject,
                   "description": description, "join_approval_mode": mode}
        self.world.pending_creates[request_id] = pending
        self.sim.group_create_requested(pending)
        return ok({"messaging_product": "whatsapp", "request_id": request_id})

    def list_groups(self, phone: PhoneNumber, query: dict[str, str]) -> Response:
        try:
            limit = int(query.get("limit", "25"))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 1024:
            raise invalid("Param limit must be an integer from 1 to 1024.")
        groups = [g for g in self.world.groups.values() if g.phone_number_id == phone.phone_number_id and g.active]
        ids = [g.group_id for g in groups]
        start, end = 0, len(groups)
        for name in ("after", "before"):
            if query.get(name):
                anchor = uncursor(query[name]).removeprefix("groups:")
                if anchor not in ids:
                    raise GraphError(131059, "The pagination cursor has expired or is malformed. Restart "
                                             "pagination from the first page.")
                if name == "after":
                    start = ids.index(anchor) + 1
                else:
                    end = ids.index(anchor)
                    start = max(end - limit, 0)
        page = groups[start:start + limit] if not query.get("before") else groups[start:end]
        body: dict = {"data": {"groups": [
            {"id": g.group_id, "subject": g.subject, "created_at": str(g.creation_timestamp)} for g in page
        ]}}
        if page:
            base = f"https://graph.facebook.com/{self.config.api_version}/{phone.phone_number_id}/groups?limit={limit}"
            before, after = cursor("groups:" + page[0].group_id), cursor("groups:" + page[-1].group_id)
            paging: dict = {"cursors": {"before": before, "after": after}}
            if ids.index(page[0].group_id) > 0:
                paging["previous"] = f"{base}&before={before}"
            if ids.index(page[-1].group_id) < len(ids) - 1:
                paging["next"] = f"{base}&after={after}"
            body["paging"] = paging
        return ok(body)

    # -- §4.3-4.5: one group -------------------------------------------------------------------------------------

    def get_info(self, group: Group, request: Request) -> Response:
        body: dict = {"messaging_product": "whatsapp", "id": group.group_id}
        requested = [name.strip() for name in request.query.get("fields", "").split(",") if name.strip()]
        unknown = [name for name in requested if name not in INFO_FIELDS]
        if unknown:
            raise invalid(f"Tried accessing nonexisting field ({unknown[0]}) on node type (WhatsAppGroup).")
        values = {
            "subject": group.subject,
            "description": group.description,
            "creation_timestamp": group.creation_timestamp,
            "suspended": group.suspended,
            "total_participant_count": len(group.participants),
            "participants": [{"wa_id": wa_id} for wa_id in group.participants],
            "join_approval_mode": group.join_approval_mode,
        }
        if not group.description:
            del values["description"]  # Documented as present "if set during creation".
        body.update({name: values[name] for name in INFO_FIELDS if name in requested and name in values})
        return ok(body)

    def update_settings(self, group: Group, request: Request) -> Response:
        """Accept subject, description and a picture in one call, JSON or multipart (spec §4.4, C5)."""
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            data, files = parse_multipart(request)
        else:
            data, files = parse_json(request, product=False), {}
        if data.get("messaging_product") != "whatsapp":
            raise invalid("Param messaging_product must be 'whatsapp'.")
        if "profile_picture_file" in data or "file" in data:
            # Meta's prose once described a JSON "path to an image file"; the picture itself must be uploaded.
            raise invalid("Upload the picture as a multipart file (field 'profile_picture_file' or 'file').")
        changes: dict = {}
        if "subject" in data:
            changes["subject"] = check_subject(data["subject"])
        if "description" in data:
            changes["description"] = check_description(data["description"])
        picture = next((files[name] for name in PICTURE_FIELDS if name in files), None)
        if picture is not None:
            changes["picture"] = check_picture(picture)
        if not changes:
            raise invalid("Give at least one of subject, description or profile_picture_file.")
        not_suspended(group)
        self.sim.settings_requested(group, self.world.new_request_id(), changes)
        return ok({"success": True})

    def delete_group(self, group: Group, request: Request) -> Response:
        self.sim.group_delete_requested(group, self.world.new_request_id())
        return ok({"success": True})

    # -- §4.6-4.8: invite link -----------------------------------------------------------------------------------

    def get_invite_link(self, group: Group, request: Request) -> Response:
        not_suspended(group)
        if group.invite_link is None:
            raise invalid("The group's invite link was deleted; reset it to create a new one.")
        return ok({"messaging_product": "whatsapp", "invite_link": group.invite_link})

    def reset_invite_link(self, group: Group, request: Request) -> Response:
        parse_json(request)
        not_suspended(group)
        group.invite_link = self.world.new_invite_link()  # Every earlier link stops working.
        return ok({"messaging_product": "whatsapp", "invite_link": group.invite_link})

    def delete_invite_link(self, group: Group, request: Request) -> Response:
        parse_json(request)
        not_suspended(group)
        group.invite_link = None
        return ok({"messaging_product": "whatsapp", "success": "true"})

    # -- §4.9-4.13: join requests and participants ---------------------------------------------------------------

    def list_join_requests(self, group: Group, request: Request) -> Response:
        pending = group.pending_requests()
        ids = [jr.join_request_id for jr in pending]
        start = 0
        if request.query.get("after"):
            anchor = uncursor(request.query["after"])
            if anchor not in ids:
                raise GraphError(131059, "The pagination cursor has expired or is malformed. Restart pagination "
                                         "from the first page.")
            start = ids.index(anchor) + 1
        page = pending[start:start + 25]
        body: dict = {"data": [{"join_request_id": jr.join_request_id, "wa_id": jr.wa_id,
                                "creation_timestamp": jr.creation_timestamp} for jr in page]}
        if page:
            body["paging"] = {"cursors": {"before": cursor(page[0].join_request_id),
                                          "after": cursor(page[-1].join_request_id)}}
        return ok(body)

    def _join_request_ids(self, request: Request) -> list[str]:
        ids = parse_json(request).get("join_requests")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise invalid("Param join_requests must be a non-empty list of join request IDs.")
        return list(dict.fromkeys(ids))

    def approve_join_requests(self, group: Group, request: Request) -> Response:
        ids = self._join_request_ids(request)
        not_suspended(group)
        approved, failed, people = [], [], []
        for join_request_id in ids:
            jr = group.join_requests.get(join_request_id)
            person = self.world.people.get(jr.wa_id) if jr else None
            if jr is None or jr.state != "pending" or person is None:
                error = webhook_error(131213, "The join request ID is unknown or the request was already handled "
                                              "or revoked.", message="(#131213) Group join request does not exist.")
            elif not person.accepts_terms:
                details = "Recipient has not accepted our new Terms of Service and Privacy Policy."
                error = webhook_error(131203, details, message=f"(#131203) {details}")
            elif len(group.participants) >= MAX_PARTICIPANTS:
                error = webhook_error(131204, "The request would exceed the maximum number of participants.",
                                      message="(#131204) Participant overlimit")
            else:
                jr.state = "approved"
                group.participants[person.wa_id] = person
                approved.append(join_request_id)
                people.append(person)
                continue
            failed.append({"join_request_id": join_request_id, "errors": [error]})
        if people:
            self.sim.join_requests_approved(group, people)
        return self._partial(approved, failed, key="approved_join_requests")

    def reject_join_requests(self, group: Group, request: Request) -> Response:
        ids = self._join_request_ids(request)
        not_suspended(group)
        rejected, failed = [], []
        for join_request_id in ids:
            jr = group.join_requests.get(join_request_id)
            if jr is None or jr.state != "pending":
                failed.append({"join_request_id": join_request_id, "errors": [webhook_error(
                    131213, "The join request ID is unknown or the request was already handled or revoked.",
                    message="(#131213) Group join request does not exist.")]})
                continue
            jr.state = "rejected"  # No webhook (spec §4.11): the user may ask again.
            rejected.append(join_request_id)
        return self._partial(rejected, failed, key="rejected_join_requests")

    @staticmethod
    def _partial(done: list[str], failed: list[dict], *, key: str) -> Response:
        """Answer 200 when all went through, 206 with 131201 when some did, the first error when none did."""
        if not failed:
            return Response(200, {"messaging_product": "whatsapp", key: done})
        if not done:
            first = failed[0]["errors"][0]
            raise GraphError(first["code"], first["error_data"]["details"], message=first["message"])
        count = len(done) + len(failed)
        return Response(206, {
            "messaging_product": "whatsapp",
            key: done,
            "failed_join_requests": failed,
            "errors": [webhook_error(131201, f"{len(failed)} of the {count} join requests could not be handled.")],
        })

    def remove_participants(self, group: Group, request: Request) -> Response:
        items = parse_json(request).get("participants")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_PARTICIPANTS:
            raise invalid("Param participants must hold 1 to 8 items.")
        users = [item.get("user") if isinstance(item, dict) else None for item in items]
        if not all(isinstance(user, str) and user for user in users):
            raise invalid("Each item of participants needs a 'user' (phone number or BSUID).")
        if len({user.lstrip("+") for user in users}) != len(users):
            raise GraphError(131202, "The same user appears more than once in the participants array.")
        not_suspended(group)
        self.sim.removal_requested(group, self.world.new_request_id(), users)
        return ok({"success": True})

    def add_participants(self, group: Group, request: Request) -> Response:
        raise invalid("Businesses cannot add participants to a group; share the invite link instead.")
