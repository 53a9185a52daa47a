"""Stored JSON is shown as tables and lists people read (config.admin.readable_html), never as JSON."""

from config.admin import readable_html


def test_a_dict_is_a_table_of_labelled_rows():
    html = readable_html({"join_approval_mode": "auto_approve", "preview_url": False, "details": ""})
    assert "<th>Join approval mode</th><td>auto_approve</td>" in html
    assert "<th>Preview url</th><td>no</td>" in html
    assert "<th>Details</th><td>-</td>" in html
    assert "{" not in html


def test_a_list_of_dicts_is_one_table_with_a_column_per_key():
    html = readable_html([{"wa_id": "1555", "error": {"code": 131203}}, {"wa_id": "1666"}])
    assert "<thead><tr><th>Wa id</th><th>Error</th></tr></thead>" in html
    assert "<td>1666</td><td>-</td>" in html
    assert "<th>Code</th><td>131203</td>" in html


def test_plain_lists_and_values_read_as_text_and_are_escaped():
    assert readable_html(["messages", "group_status_update"]) == "messages, group_status_update"
    assert readable_html({"body": "<b>hi</b>"}).count("&lt;b&gt;") == 1
    assert readable_html(None) == readable_html({}) == "-"


def test_ids_are_marked_as_tokens_and_words_are_not():
    html = readable_html({"id": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI4", "title": "Message undeliverable", "code": 131026})
    wamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI4"
    assert f'<span class="token" title="{wamid}">{wamid}</span>' in html
    assert "<td>Message undeliverable</td>" in html and "<td>131026</td>" in html


def test_a_list_of_deeply_nested_dicts_is_one_labelled_table_per_item():
    statuses = [{"id": "wamid.A", "status": "failed", "errors": [{"code": 131026, "error_data": {"details": "x"}}]},
                {"id": "wamid.B", "status": "read"}]
    html = readable_html({"statuses": statuses})
    assert "<thead>" in html  # The errors, shallow, are still columns...
    assert html.count("<th>Status</th><td>") == 2  # ...while each status is its own labelled table.
