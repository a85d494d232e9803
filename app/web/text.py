"""Text helpers for pages and feeds (pure): readable LaTeX, shortening, author lists, dates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime

GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ",
    "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
    "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}  # fmt: skip
SYMBOLS = {
    "times": "×", "cdot": "·", "pm": "±", "mp": "∓", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "neq": "≠",
    "ne": "≠", "approx": "≈", "sim": "∼", "simeq": "≃", "equiv": "≡", "propto": "∝", "infty": "∞",
    "rightarrow": "→", "to": "→", "leftarrow": "←", "Rightarrow": "⇒", "Leftrightarrow": "⇔", "mapsto": "↦",
    "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆", "cup": "∪", "cap": "∩", "forall": "∀",
    "exists": "∃", "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏", "int": "∫", "ell": "ℓ",
    "ldots": "…", "cdots": "⋯", "dots": "…", "log": "log", "exp": "exp", "min": "min", "max": "max",
    "langle": "⟨", "rangle": "⟩", "lVert": "‖", "rVert": "‖", "|": "‖", "star": "⋆", "circ": "∘",
    "ast": "∗", "top": "⊤", "dagger": "†", "emptyset": "∅", "neg": "¬", "land": "∧", "lor": "∨",
    "quad": " ", "qquad": " ", ",": " ", ";": " ", "!": "", " ": " ", "left": "", "right": "", "%": "%",
    "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}",
}  # fmt: skip
BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼", "P": "ℙ"}
SUPER = str.maketrans("0123456789+-=()nTi", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿᵀⁱ")
SUB = str.maketrans("0123456789+-=()aeijkmnotx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₘₙₒₜₓ")
SUPER_CHARS = set("0123456789+-=()nTi")
SUB_CHARS = set("0123456789+-=()aeijkmnotx")
ACCENTS = {
    "'": {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú", "E": "É", "c": "ć", "n": "ń", "s": "ś", "y": "ý"},
    "`": {"a": "à", "e": "è", "i": "ì", "o": "ò", "u": "ù"},
    '"': {"a": "ä", "o": "ö", "u": "ü", "A": "Ä", "O": "Ö", "U": "Ü", "e": "ë", "i": "ï"},
    "^": {"a": "â", "e": "ê", "i": "î", "o": "ô", "u": "û"},
    "~": {"n": "ñ", "a": "ã", "o": "õ", "N": "Ñ"},
    "c": {"c": "ç", "C": "Ç"},
    "v": {"s": "š", "c": "č", "z": "ž", "r": "ř", "e": "ě", "S": "Š", "C": "Č", "Z": "Ž"},
}  # fmt: skip

_BRACED = r"\{([^{}]*)\}"
_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
_TEXT_NAMES = "emph|textit|textbf|texttt|textsc|textrm|text|mathrm|mathbf|mathit|mathsf|mathtt|operatorname|"
_TEXT_CMDS = re.compile(r"\\(?:" + _TEXT_NAMES + r"boldsymbol|bm|underline|mbox|url)\s*" + _BRACED)
_DROP_CMDS = re.compile(r"[~ ]*\\(?:cite[pt]?|ref|eqref|label|footnote)\s*(?:\[[^\]]*\])?" + _BRACED)


def _script(body: str, table: dict[int, int], chars: set[str], mark: str) -> str:
    if body and set(body) <= chars:
        return body.translate(table)
    return f"{mark}{body}" if body.isalnum() else f"{mark}({body})"


def _math(expr: str) -> str:
    out = expr
    out = re.sub(r"\\mathbb\s*\{?([A-Z])\}?", lambda m: BLACKBOARD.get(m.group(1), m.group(1)), out)
    out = re.sub(r"\\mathcal\s*\{?([A-Za-z])\}?", r"\1", out)
    for _ in range(3):  # nested \frac{\frac{a}{b}}{c}
        out = re.sub(r"\\[dt]?frac\s*" + _BRACED + r"\s*" + _BRACED, r"(\1)/(\2)", out)
        out = re.sub(r"\\sqrt\s*" + _BRACED, r"√(\1)", out)
        out = _TEXT_CMDS.sub(r"\1", out)
        out = re.sub(r"\\(?:hat|tilde|bar|vec|overline)\s*" + _BRACED, r"\1", out)
    out = re.sub(r"\(([A-Za-z0-9.]+)\)/\(([A-Za-z0-9.]+)\)", r"\1/\2", out)
    out = re.sub(
        r"\\([A-Za-z]+|.)", lambda m: GREEK.get(m.group(1)) or SYMBOLS.get(m.group(1), m.group(1)), out
    )
    # Single characters first: the braced pass may write "^(...)", which must not be read again.
    out = re.sub(r"\^([^\s{])", lambda m: _script(m.group(1), SUPER, SUPER_CHARS, "^"), out)
    out = re.sub(r"_([A-Za-z0-9])", lambda m: _script(m.group(1), SUB, SUB_CHARS, "_"), out)
    out = re.sub(r"\^\{([^{}]*)\}", lambda m: _script(m.group(1), SUPER, SUPER_CHARS, "^"), out)
    out = re.sub(r"_\{([^{}]*)\}", lambda m: _script(m.group(1), SUB, SUB_CHARS, "_"), out)
    out = out.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", out).strip()


def latex_to_text(text: str) -> str:
    """Abstract text with LaTeX made readable: $\\alpha$ → α, \\emph{x} → x, `` '' → “ ”, -- → –."""
    if not text:
        return ""
    # An escaped dollar is a price, not the start of math.
    out = text.replace("\\$", "\x00")
    out = _MATH.sub(lambda m: _math(next(g for g in m.groups() if g is not None)), out)
    out = out.replace("\x00", "$")
    out = _DROP_CMDS.sub("", out)
    for _ in range(2):
        out = _TEXT_CMDS.sub(r"\1", out)
    out = re.sub(r"\\href\s*" + _BRACED + r"\s*" + _BRACED, r"\2", out)
    out = re.sub(
        r"\\([`'\"^~cv])\s*\{?([A-Za-z])\}?",
        lambda m: ACCENTS.get(m.group(1), {}).get(m.group(2), m.group(2)),
        out,
    )
    out = out.replace("``", "“").replace("''", "”").replace("---", "—").replace("--", "–")
    out = re.sub(r"(?<!\\)~", "\u00a0", out)
    out = re.sub(r"\\([%&_#$])", r"\1", out)
    out = re.sub(r"\\(ldots|dots)\b", "…", out)
    out = re.sub(r"\\\\", " ", out)
    return re.sub(r"[ \t]+", " ", out).strip()


def shorten(text: str, limit: int = 280) -> str:
    """Cut at a word boundary, preferring a sentence end, with an ellipsis when cut."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    sentence = cut.rfind(". ")
    if sentence >= limit * 0.6:
        return cut[: sentence + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.5 else cut).rstrip(",;:-– ") + "…"


def authors_short(authors: Sequence[str], limit: int = 3) -> str:
    names = [a for a in authors if a]
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])} et al. ({len(names)} authors)"


def date_long(value: date | datetime | None) -> str:
    if value is None:
        return ""
    day = value.astimezone(UTC).date() if isinstance(value, datetime) else value
    return f"{day.day} {day.strftime('%b %Y')}"


def datetime_utc(value: datetime | None) -> str:
    if value is None:
        return ""
    stamp = value.astimezone(UTC)
    return f"{date_long(stamp)}, {stamp:%H:%M} UTC"


def ago(value: datetime | None, now: datetime) -> str:
    """'just now', '5 minutes ago', '3 hours ago', '2 days ago' (or 'in 2 hours' for the future)."""
    if value is None:
        return "never"
    seconds = (now - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now"
    for size, unit in (
        (86400 * 365, "year"),
        (86400 * 30, "month"),
        (86400, "day"),
        (3600, "hour"),
        (60, "minute"),
    ):
        if seconds >= size:
            n = int(seconds // size)
            words = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {words}" if future else f"{words} ago"
    return "just now"


def signed(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:+.{digits}f}".replace("-", "−")


def number(value: int | float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,}".replace(",", " ") if isinstance(value, int) else f"{value:,.2f}"


TREND_WORDS = {
    "emerging": ("✦", "emerging"),
    "bursting": ("⇈", "bursting"),
    "rising": ("↑", "rising"),
    "falling": ("↓", "falling"),
    "steady": ("→", "steady"),
}


def trend_word(state: str | None) -> str:
    arrow, word = TREND_WORDS.get(state or "steady", ("→", state or "steady"))
    return f"{arrow} {word}"
