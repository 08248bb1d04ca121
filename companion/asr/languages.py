"""Languages of calls and speech models: a code ('en-us', 'ko', 'cn') to a name ('English',
'Korean', 'Chinese'), and when a model's language serves a call's."""

from __future__ import annotations

# Vosk's model names use these codes (alphacephei.com/vosk/models); a few have ISO twins.
NAMES = {
    "ar": "Arabic", "br": "Breton", "ca": "Catalan", "cn": "Chinese", "zh": "Chinese", "cs": "Czech",
    "de": "German", "el": "Greek", "en": "English", "eo": "Esperanto", "es": "Spanish", "fa": "Persian",
    "fr": "French", "gu": "Gujarati", "hi": "Hindi", "it": "Italian", "ja": "Japanese", "ko": "Korean",
    "kz": "Kazakh", "kk": "Kazakh", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ru": "Russian",
    "sv": "Swedish", "te": "Telugu", "tg": "Tajik", "tl": "Filipino", "tr": "Turkish", "ua": "Ukrainian",
    "uk": "Ukrainian", "uz": "Uzbek", "vn": "Vietnamese", "vi": "Vietnamese",
}
_TWINS = {"zh": "cn", "kk": "kz", "uk": "ua", "vi": "vn"}
CHOICES = ("en-us", "en-in", "en-gb", "de", "fr", "es", "it", "pt", "nl", "ru", "pl", "tr", "ko", "ja", "cn", "hi")


def base(code: str) -> str:
    """'en-us' -> 'en'; 'zh' -> 'cn' (one code per language)."""
    head = code.strip().lower().replace("_", "-").split("-")[0]
    return _TWINS.get(head, head)


def is_known(code: str) -> bool:
    return base(code) in NAMES


def language_name(code: str) -> str:
    """'en-us' -> 'English'; an unknown code is shown as written."""
    return NAMES.get(base(code), code)


def serves(model_language: str, call_language: str) -> bool:
    """A model transcribes a call when both are the same language (any variant: an en-in model for en-us)."""
    return base(model_language) == base(call_language)
