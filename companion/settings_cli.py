"""`companion settings`: the user's settings files (where, whether they exist) and, with --all, every
setting with its value now, its default and its file (companion.settings_store)."""

from __future__ import annotations

import json
from typing import Any

from companion.settings_store import SettingsStore
from companion.textsafe import shown


def _text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return shown(json.dumps(value, ensure_ascii=False) if isinstance(value, (str, list, dict)) else value)


def run(all_settings: bool = False, as_json: bool = False) -> int:
    store = SettingsStore()
    files = [{"name": f.name, "path": str(f.path()), "format": f.format, "exists": f.path().is_file(),
              "holds": f.holds} for f in store.files()]
    if not all_settings:
        if as_json:
            print(json.dumps({"files": files}, indent=1))
        else:
            for f in files:
                print(f"{f['name']:<17} {'exists ' if f['exists'] else 'not yet'}  {shown(f['path'])}")
                print(f"{'':<17} {f['holds']}")
        return 0
    values = store.values()  # a file that cannot be read: its one-line error, from its own module
    if as_json:
        print(json.dumps({"files": files, "settings": [
            {"file": v.setting.file, "section": v.setting.section, "key": v.setting.key, "type": v.setting.type,
             "current": v.current, "default": v.setting.default, "meaning": v.setting.meaning}
            for v in values]}, indent=1, default=str))
        return 0
    for f in files:
        print(f"[{f['name']}] {shown(f['path'])}{'' if f['exists'] else ' (not yet: all defaults)'}")
        for v in (v for v in values if v.setting.file == f["name"]):
            changed = "" if v.current == v.setting.default else f"   (default {_text(v.setting.default)})"
            print(f"  {v.setting.name} = {_text(v.current)}{changed}")
            print(f"      {v.setting.type}: {v.setting.meaning}")
    return 0
