"""Validation of MJML markup, because mjml-python reports nothing.

MRML (behind mjml-python) silently passes unknown tags through to the HTML and ignores unknown
attributes, so a typo in a user's template would ship broken markup without a word. This checker
applies the rules of the npm `mjml` validator ("soft" level) that matter for templates: known
components, allowed parents, known attributes and the type of their values. It is regex based so
that it costs about a millisecond on a 40-item issue and can run on every render.
"""

from __future__ import annotations

import re

_PAD = ("padding", "padding-top", "padding-bottom", "padding-left", "padding-right")
_BORDER = ("border", "border-top", "border-bottom", "border-left", "border-right", "border-radius")
_FONT = ("font-family", "font-size", "font-style", "font-weight", "line-height", "letter-spacing",
         "text-decoration", "text-transform", "color")
_BG = ("background-color", "background-url", "background-repeat", "background-size", "background-position",
       "background-position-x", "background-position-y")
_COMMON = ("css-class", "mj-class")

ATTRIBUTES: dict[str, frozenset[str]] = {
    name: frozenset(attrs + _COMMON)
    for name, attrs in {
        "mjml": ("owa", "lang", "dir", "version"),
        "mj-head": (),
        "mj-body": ("width", "background-color"),
        "mj-attributes": (),
        "mj-all": ("*",),
        "mj-class": ("*",),
        "mj-breakpoint": ("width",),
        "mj-font": ("name", "href"),
        "mj-html-attributes": (),
        "mj-selector": ("path",),
        "mj-html-attribute": ("name",),
        "mj-preview": (),
        "mj-title": (),
        "mj-style": ("inline",),
        "mj-raw": ("position",),
        "mj-include": ("path", "type", "css-inline"),
        "mj-wrapper": (*_BG, *_BORDER, *_PAD, "direction", "full-width", "text-align", "gap"),
        "mj-section": (*_BG, *_BORDER, *_PAD, "direction", "full-width", "text-align"),
        "mj-group": ("width", "vertical-align", "background-color", "direction"),
        "mj-column": ("background-color", "inner-background-color", *_BORDER, "inner-border", "inner-border-top",
                      "inner-border-bottom", "inner-border-left", "inner-border-right", "inner-border-radius",
                      "width", "vertical-align", *_PAD, "direction"),
        "mj-text": (*_FONT, "height", "align", "container-background-color", *_PAD),
        "mj-table": (*_FONT, "align", "border", "cellpadding", "cellspacing", "container-background-color",
                     *_PAD, "role", "table-layout", "width"),
        "mj-button": (*_FONT, "align", "background-color", *_BORDER, "container-background-color", "height",
                      "href", "inner-padding", *_PAD, "rel", "target", "text-align", "title", "vertical-align",
                      "width", "name"),
        "mj-image": ("alt", "href", "name", "src", "srcset", "sizes", "title", "rel", "align", *_BORDER,
                     "container-background-color", "fluid-on-mobile", *_PAD, "target", "width", "height",
                     "usemap", "font-size"),
        "mj-divider": ("border-color", "border-style", "border-width", "container-background-color", *_PAD,
                       "width", "align"),
        "mj-spacer": ("height", "container-background-color", *_PAD),
    }.items()
}

_CONTENT = ("mj-text", "mj-table", "mj-button", "mj-image", "mj-divider", "mj-spacer", "mj-raw")
PARENTS: dict[str, tuple[str, ...]] = {
    "mjml": ("",),
    "mj-head": ("mjml",),
    "mj-body": ("mjml",),
    "mj-attributes": ("mj-head",),
    "mj-breakpoint": ("mj-head",),
    "mj-font": ("mj-head",),
    "mj-html-attributes": ("mj-head",),
    "mj-selector": ("mj-html-attributes",),
    "mj-html-attribute": ("mj-selector",),
    "mj-preview": ("mj-head",),
    "mj-title": ("mj-head",),
    "mj-style": ("mj-head",),
    "mj-wrapper": ("mj-body",),
    "mj-section": ("mj-body", "mj-wrapper"),
    "mj-group": ("mj-section",),
    "mj-column": ("mj-section", "mj-group"),
    **{name: ("mj-column", "mj-hero") for name in _CONTENT if name != "mj-raw"},
    "mj-raw": ("mj-head", "mj-body", "mj-wrapper", "mj-section", "mj-column", "mj-hero", "mj-group"),
    "mj-include": ("mjml", "mj-head", "mj-body", "mj-wrapper", "mj-section", "mj-column", "mj-group"),
}
# Tags whose content is HTML handed through as is: nothing inside them is an MJML component.
_ENDING = frozenset({"mj-text", "mj-table", "mj-button", "mj-raw", "mj-style", "mj-title", "mj-preview"})

_COLOR = re.compile(r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|rgba?\([\d\s.,%]+\)|[a-zA-Z]+)$")
_UNIT = re.compile(r"^-?\d+(\.\d+)?(px|%)?$")
_UNITS_1_4 = re.compile(r"^(-?\d+(\.\d+)?(px|%)?)(\s+-?\d+(\.\d+)?(px|%)?){0,3}$")
_ENUMS = {
    "align": {"left", "right", "center", "justify"},
    "direction": {"ltr", "rtl"},
    "dir": {"ltr", "rtl", "auto"},
    "vertical-align": {"top", "bottom", "middle"},
    "text-align": {"left", "right", "center", "justify"},
    "full-width": {"full-width", "false"},
    "font-style": {"normal", "italic", "oblique"},
}
_COLOR_ATTRS = {"color", "background-color", "container-background-color", "inner-background-color", "border-color"}
_PX_ATTRS = {"font-size", "width", "height", "letter-spacing", "border-radius", "inner-border-radius", "border-width"}
_PAD_ATTRS = {*_PAD, "inner-padding"}

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<(/?)(mjml|mj-[a-z-]+)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>", re.I)
_ATTR = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)")


def _value_problem(name: str, value: str) -> str | None:
    if "{{" in value or "{%" in value:
        return None
    if name in _ENUMS and value not in _ENUMS[name]:
        return f"has invalid value {value!r} (one of {', '.join(sorted(_ENUMS[name]))})"
    if name in _COLOR_ATTRS and not _COLOR.match(value.strip()):
        return f"has invalid color {value!r}"
    if name in _PX_ATTRS and value != "auto" and not _UNIT.match(value.strip()):
        return f"has invalid size {value!r} (px or %)"
    if name in _PAD_ATTRS and not _UNITS_1_4.match(value.strip()):
        return f"has invalid padding {value!r} (1 to 4 px or % values)"
    return None


def check_mjml(source: str) -> list[str]:
    """Problems the npm mjml validator would report for this markup, each with its line number."""
    problems: list[str] = []
    stack: list[str] = []
    text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line_of(pos: int) -> int:
        lo, hi = 0, len(line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if line_starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    for match in _TAG.finditer(text):
        closing, name, attrs, self_closing = match.group(1), match.group(2).lower(), match.group(3), match.group(4)
        parent = stack[-1] if stack else ""
        if parent in _ENDING and not (closing and name == parent):
            continue
        where = f"line {line_of(match.start())}"
        if closing:
            if name not in stack:
                problems.append(f"{where}: closing </{name}> without an opening tag")
                continue
            while stack and stack.pop() != name:
                pass
            continue
        in_attributes = parent in ("mj-attributes",)
        if in_attributes:
            allowed: frozenset[str] | None = None if name in ("mj-all", "mj-class") else ATTRIBUTES.get(name)
            if name not in ATTRIBUTES:
                problems.append(f"{where}: <{name}> is not an MJML component")
        else:
            allowed = ATTRIBUTES.get(name)
            if allowed is None:
                problems.append(f"{where}: <{name}> is not an MJML component")
            elif parent not in PARENTS.get(name, (parent,)):
                problems.append(f"{where}: <{name}> cannot be used inside <{parent or 'document root'}>")
        for attr, raw in _ATTR.findall(attrs):
            value = raw[1:-1] if raw[:1] in "\"'" else raw
            if allowed is not None and "*" not in allowed and attr not in allowed:
                problems.append(f"{where}: attribute {attr!r} is illegal on <{name}>")
                continue
            problem = _value_problem(attr, value)
            if problem:
                problems.append(f"{where}: attribute {attr!r} of <{name}> {problem}")
        if not self_closing:
            stack.append(name)
    if stack:
        problems.append(f"end of document: <{stack[-1]}> is not closed")
    return problems
