"""Naming devices: by number, by Pulse source name, or by a unique part of a name."""

from __future__ import annotations

import pytest

from companion.audio.devices import DeviceInventory, InputDevice, guided_message, resolve
from companion.errors import DeviceError
from companion.live import choose_devices

HEADSET = InputDevice("3", "Jabra Evolve2 65", "ALSA", 1, 48000, 3)
STEREO = InputDevice("4", "Focusrite Scarlett 2i2", "ALSA", 2, 44100, 4)
MONITOR = InputDevice("alsa_output.usb-Jabra.monitor", "Monitor of Jabra", "PulseAudio", 2, 48000, 0,
                      "alsa_output.usb-Jabra.monitor", True)
INV = DeviceInventory((MONITOR, HEADSET, STEREO), HEADSET, MONITOR)


def test_a_device_is_found_by_number_source_name_or_part_of_its_name():
    assert resolve("3", INV) is HEADSET
    assert resolve("alsa_output.usb-Jabra.monitor", INV) is MONITOR
    assert resolve("scarlett", INV) is STEREO


def test_an_ambiguous_or_unknown_name_is_a_clear_error():
    with pytest.raises(DeviceError, match="matches several devices"):
        resolve("jabra", INV)
    with pytest.raises(DeviceError, match="No input device matches 'zoom'"):
        resolve("zoom", INV)


def test_defaults_and_remembered_choice(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(tmp_path))
    chosen = choose_devices(None, None, inv=INV)
    assert chosen.agent is HEADSET and chosen.customer is MONITOR
    choose_devices("scarlett", "scarlett", inv=INV)  # one stereo device, a party per channel
    again = choose_devices(None, None, inv=INV)
    assert again.agent is STEREO and again.customer is STEREO
    assert (again.agent_channel, again.customer_channel) == (0, 1)


def test_channels_must_exist_and_differ_on_a_shared_device(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(tmp_path))
    with pytest.raises(DeviceError, match="the customer channel 2 does not exist"):
        choose_devices("scarlett", "scarlett", customer_channel=2, inv=INV)
    with pytest.raises(DeviceError, match="the customer channel 1 does not exist"):
        choose_devices("3", "3", inv=INV)  # a mono headset cannot carry both parties
    with pytest.raises(DeviceError, match="Both parties are on channel 0"):
        choose_devices("scarlett", "scarlett", customer_channel=0, inv=INV)


def test_no_customer_source_gives_the_platform_guide(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(tmp_path))
    bare = DeviceInventory((HEADSET,), HEADSET, None)
    with pytest.raises(DeviceError, match="monitor|VB-CABLE|BlackHole"):
        choose_devices(None, None, inv=bare)


@pytest.mark.parametrize("code,guide", [
    (-9996, "does not exist any more"), (-9997, "does not accept that sample rate"), (-9999, "refused to open it"),
])
def test_portaudio_errors_become_guided_messages(code, guide):
    exc = Exception("Error opening InputStream: something", code)
    message = guided_message(exc, "customer", "Jabra")
    assert message.startswith("Cannot capture the customer from Jabra: ") and guide in message


def test_the_guide_to_the_customer_s_sound_speaks_to_a_window_user_in_the_window(monkeypatch):
    """The Setup dialog never tells someone at a window to pass a command-line option; the command line does."""
    from companion.audio import devices

    for platform in ("linux", "win32", "darwin", "sunos5"):
        monkeypatch.setattr(devices.sys, "platform", platform)
        assert "--customer-device" not in devices.customer_source_guide(window=True)
        assert "customer's sound" in devices.customer_source_guide(window=True)
        assert "--customer-device" in devices.customer_source_guide()
