"""`mecene config show`: the effective configuration, read without opening the instance."""

import json

from config.settings import Settings


def config_show(settings: Settings) -> int:
    for section, values in settings.as_dict().items():
        print(f"[{section}]")
        for key, value in values.items():
            print(f"{key} = {json.dumps(value)}")
        print()
    return 0
