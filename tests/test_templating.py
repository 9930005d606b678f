"""One Jinja factory and one i18n module: a user's template folder overrides any bundled file, in web
pages, the issue email and the one-off mails alike, and every template translates through one gettext."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from pathlib import Path

import httpx

from newsletter import i18n, templating
from newsletter.config import Settings
from newsletter.delivery.transactional import render_mail
from newsletter.render import render_issue
from newsletter.render.env import translate
from newsletter.runtime import Runtime
from tests.render.builders import make_snapshot
from tests.support.servers import serve_app


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_user_page_template_overrides_the_bundled_one_and_translates(
        make_runtime: Callable[..., Runtime], tmp_path: Path) -> None:
    user = tmp_path / "mytemplates"
    _write(user, "web/submit/form.html.j2", '<p id="mine">{{ _("Report an incident") }} · {{ lang }}</p>\n')
    with serve_app(make_runtime(templates_dir=user)) as url:
        ru = httpx.get(f"{url}/submit", headers={"Accept-Language": "ru"})
        en = httpx.get(f"{url}/submit?lang=en")
        other = httpx.get(f"{url}/subscribe")
    assert ru.status_code == 200 and ru.text == '<p id="mine">Сообщить о случае · ru</p>'
    assert en.text == '<p id="mine">Report an incident · en</p>'
    assert other.status_code == 200 and "<form" in other.text  # not overridden: the bundled page


def test_a_user_issue_template_overrides_the_bundled_one(settings: Settings, tmp_path: Path) -> None:
    user = tmp_path / "mytemplates"
    _write(user, "email/issue/body.txt.j2", "{{ v.title | underline('=') }}\n{{ _('Sources and details') }}\n")
    mine = settings.model_copy(update={"templates_dir": user})
    snapshot = make_snapshot(3)
    rendered = render_issue(snapshot, mine)
    assert rendered.email_text.startswith("Please, listen to the citizens of Kazakhstan\n=====")
    assert "Sources and details" in rendered.email_text
    assert rendered.web_html == render_issue(snapshot, settings).web_html  # the rest stays bundled


def test_a_user_mail_template_overrides_the_bundled_one(settings: Settings, tmp_path: Path) -> None:
    user = tmp_path / "mytemplates"
    _write(user, "email/confirm/subject.txt.j2", "Please confirm: {{ org_name }}\n")
    mine = settings.model_copy(update={"templates_dir": user, "org_name": "Free Voices"})
    context = {"confirm_url": "http://127.0.0.1:8000/confirm/abc", "valid_days": 7, "language": "en"}
    mail = render_mail(mine, "confirm", "anna@example.org", context)
    bundled = render_mail(settings.model_copy(update={"org_name": "Free Voices"}), "confirm", "anna@example.org",
                          context)
    assert mail.subject == "Please confirm: Free Voices" and bundled.subject != mail.subject
    assert mail.text == bundled.text and "http://127.0.0.1:8000/confirm/abc" in mail.text


def test_each_kind_keeps_its_escaping_rules(settings: Settings, tmp_path: Path) -> None:
    user = tmp_path / "mytemplates"
    for name in ("web/x.html.j2", "email/x/body.txt.j2", "email/x/body.html.j2"):
        _write(user, name, "{{ value }}")
    mine = settings.model_copy(update={"templates_dir": user})
    value = "<b>&</b>"
    assert templating.make_environment(mine).get_template("x.html.j2").render(value=value) == "&lt;b&gt;&amp;&lt;/b&gt;"
    mail = templating.environment(mine, templating.MAIL)
    assert mail.get_template("x/body.txt.j2").render(value=value) == value
    assert mail.get_template("x/body.html.j2").render(value=value) == "&lt;b&gt;&amp;&lt;/b&gt;"


def test_one_gettext_for_requests_and_renders() -> None:
    """The web layer's `activate` and rendering's `use_language` bind the same context variables:
    a render inside a Russian request renders in the issue's language and gives the request back."""
    def request() -> list[str]:
        i18n.activate("ru")
        seen = [i18n._("Report an incident")]
        with i18n.use_language("en"):
            seen.append(translate("Report an incident"))
        seen.append(i18n._("Report an incident"))
        seen.append(i18n.current_language())
        return seen

    assert contextvars.copy_context().run(request) == ["Сообщить о случае", "Report an incident",
                                                       "Сообщить о случае", "ru"]
    assert i18n.current_language() == "en"  # the request's context never leaked into this one
    assert contextvars.copy_context().run(lambda: (i18n.activate("xx"), i18n.current_language())[1]) == "en"
