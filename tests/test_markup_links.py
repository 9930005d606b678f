"""newsletter.markup's link keeping: a drafted plain text gains the links of its source's body, and
nothing else turns into markup on the way (issue #12, item 3)."""

from __future__ import annotations

import pytest

from newsletter import markup

TRICKY = "1. Start *stars* and _underscores_ [brackets] <b>tags</b> & a\\backslash.\n\n- dash > quote # hash 2) x"


def test_escaped_plain_text_renders_to_exactly_its_words() -> None:
    assert markup.render_markdown(markup.escape_markdown(TRICKY)).text == TRICKY
    assert "<" not in markup.render_markdown(markup.escape_markdown(TRICKY)).html.replace("<p>", "").replace(
        "</p>", "").replace("&lt;", "")


def test_the_words_of_a_body_link_become_that_link_without_tracking() -> None:
    body = ('<p>Colleagues gathered. <a href="https://union.example.org/s?utm_source=feed&amp;fbclid=1&amp;id=5">'
            "Read the union&#39;s statement</a>.</p><p><a href=\"mailto:x@example.org\">Mail</a> "
            '<a href="javascript:alert(1)">Read</a> <a href="/relative">Colleagues</a></p>')
    links = markup.body_links(body)
    assert links == [("Read the union's statement", "https://union.example.org/s?id=5")]
    drafted = markup.link_words("Colleagues gathered. Read the union's statement. *Not emphasis*", links)
    assert drafted == ("Colleagues gathered. [Read the union's statement](<https://union.example.org/s?id=5>). "
                       "\\*Not emphasis\\*")
    out = markup.render_markdown(drafted)
    assert out.text == "Colleagues gathered. Read the union's statement. *Not emphasis*"
    assert out.hrefs == ["https://union.example.org/s?id=5"] and 'rel="noopener noreferrer"' in out.html


@pytest.mark.parametrize("text", ["No link words here.", ""])
def test_text_without_the_links_words_stays_plain(text: str) -> None:
    assert markup.link_words(text, [("Read the statement", "https://a.example.org/")]) is None


def test_each_link_is_placed_once_and_never_inside_another() -> None:
    links = [("the statement", "https://a.example.org/1"), ("statement", "https://b.example.org/2")]
    drafted = markup.link_words("Read the statement. The statement again.", links)
    assert drafted == "Read [the statement](<https://a.example.org/1>). The [statement](<https://b.example.org/2>) again."


def test_every_cleaned_link_loses_its_tracking_parameters() -> None:
    html = markup.clean('<a href="https://a.example.org/x?gclid=1&amp;q=2&amp;utm_medium=m&amp;mc_eid=9">x</a>')
    assert html == '<a href="https://a.example.org/x?q=2" rel="noopener noreferrer">x</a>'
