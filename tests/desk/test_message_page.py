"""The outbound message's page for people (issue 17 §3): content as a bubble, no JSON, no microseconds, names."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from messaging.events import StatusEvent
from messaging.services import StatusItem, message_statuses_apply
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MAYA, OLIVER = "16505551234", "447700900123"
WAMID = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQzJGNEExRDhFNkI3QzkwQQA="


def _status(message, status: str, wa_id: str, *, second: int) -> None:
    event = StatusEvent(wamid=message.wamid, status=status, timestamp=AT.replace(second=second),
                        participant_wa_id=wa_id, participant_user_id=None)
    message_statuses_apply([StatusItem(event=event)])


@pytest.fixture
def page(client, superuser):
    group = GroupFactory()
    ParticipantFactory(group=group, wa_id=MAYA, user_id=None, name="Maya Patel")
    ParticipantFactory(group=group, wa_id=OLIVER, user_id=None, name="Oliver Grant")
    message = OutboundMessageFactory(group=group, accepted=True, recipient_count=2, wamid=WAMID,
                                     content={"body": "Your parcel is on its way", "preview_url": False})
    _status(message, "delivered", OLIVER, second=1)
    _status(message, "delivered", MAYA, second=2)
    _status(message, "read", MAYA, second=3)
    client.force_login(superuser)
    response = client.get(reverse("admin:messaging_outboundmessage_change", args=[message.pk]))
    assert response.status_code == 200
    return response.content.decode(), message


def test_the_message_page_shows_no_json_and_no_microseconds(page):
    # when
    html, _message = page
    # then
    assert "Your parcel is on its way" in html and 'class="ws-text"' in html
    assert '{"' not in html and "{'" not in html
    assert not re.search(r"\d\d:\d\d:\d\d\.\d+", html)  # No microseconds.
    assert "+00:00</td>" not in html and "→" not in html
    assert ">wamid.HB…QzkwQQA=</code>" in html and f'data-copy="{WAMID}"' in html  # Shortened, copied whole.


def test_receipts_and_history_name_the_people(page):
    # when
    html, _message = page
    # then
    matrix = html[html.index('class="receipt-matrix"'):]
    matrix = matrix[:matrix.index("</table>")]
    assert "Maya Patel" in matrix and "+16505551234" in matrix and "<time" in matrix
    history = html[html.index('class="status-history"'):]
    history = history[:history.index("</table>")]
    assert re.search(r"\+1 delivered: <span[^>]*>Maya Patel</span> \(2/2\)", history)
    assert re.search(r"Read by <span[^>]*>Maya Patel</span> \(1/2\)", history)
    assert "wa:" not in history
