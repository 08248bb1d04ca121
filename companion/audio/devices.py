"""Input devices: what can capture the agent and the customer, and how each is named.

PortAudio (through sounddevice) lists devices per host API. On Linux with
PulseAudio or PipeWire, every Pulse source, monitors included, is a device of its
own, named by its source name (``softphone.monitor``) and opened through
PortAudio's ``pulse`` device with ``PULSE_SOURCE`` set for that stream.
Defaults: agent = the default input; customer = the monitor of the default
output (Linux), a ``[Loopback]`` device (Windows, where PortAudio offers it), or
a BlackHole / virtual-cable device (macOS, Windows), with a guide when none exists.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Optional, cast

from companion.errors import DeviceError

VIRTUAL_HINTS = ("[loopback]", "blackhole", "cable output", "stereo mix", "monitor of", "soundflower", "loopback audio")


@dataclass(frozen=True)
class InputDevice:
    key: str                 # how it is named on the command line: PortAudio index, or the Pulse source name
    name: str                # what a person reads
    hostapi: str
    channels: int
    rate: int
    portaudio_index: int     # the PortAudio device to open (the 'pulse' device for Pulse sources)
    pulse_source: Optional[str] = None
    captures_output: bool = False  # a monitor / loopback of something playing


def sounddevice() -> ModuleType:
    """The sounddevice module, or a DeviceError saying how to get PortAudio."""
    try:
        import sounddevice as sd
    except OSError:
        raise DeviceError(portaudio_missing_guide()) from None
    except ImportError:
        raise DeviceError("sounddevice is not installed: run 'pip install sounddevice' for live calls.") from None
    return cast(ModuleType, sd)  # sounddevice ships no type information


def portaudio_missing_guide() -> str:
    if sys.platform.startswith("linux"):
        how = "install it with 'sudo apt-get install libportaudio2' (Debian/Ubuntu) or 'sudo dnf install portaudio' (Fedora)"
    else:
        how = "reinstall sounddevice ('pip install --force-reinstall sounddevice'), whose wheel carries PortAudio"
    return (f"PortAudio, the audio library live capture needs, is not available: {how}. "
            "Recorded calls ('companion analyze') and the demo work without it.")


_PA_CODE = re.compile(r"-99\d\d")
PA_GUIDES = {
    "-9996": "the device does not exist any more (unplugged?); run 'companion devices' to see what is connected",
    "-9997": "the device does not accept that sample rate; pick it again in 'companion devices' (it lists the rates)",
    "-9998": "the device does not have that many input channels",
    "-9999": "the sound system refused to open it (in use by another program, or gone); close other recorders and retry",
    "-9985": "the device is busy or unavailable; close other programs using it and retry",
    "-9993": "the device cannot be used for input",
}


def guided_message(exc: BaseException, party: str, device: str) -> str:
    text = str(exc)
    code = next(iter(_PA_CODE.findall(" ".join(str(a) for a in getattr(exc, "args", ())) + " " + text)), None)
    guide = PA_GUIDES.get(code or "", "the sound system reported an error")
    return f"Cannot capture the {party} from {device}: {guide} ({text})."


# --- PulseAudio / PipeWire sources -----------------------------------------------------------


@dataclass(frozen=True)
class PulseSource:
    name: str
    description: str
    channels: int
    rate: int
    monitor: bool


def pulse_sources() -> tuple[list[PulseSource], Optional[str], Optional[str]]:
    """(sources, default source, default sink) from the Pulse server, or ([], None, None) if there is none."""
    try:
        import pulsectl

        with pulsectl.Pulse("call-companion-devices", connect=True) as pulse:
            info = pulse.server_info()
            sources = [
                PulseSource(s.name, s.description, s.channel_count, s.sample_spec.rate, s.monitor_of_sink != 0xFFFFFFFF)
                for s in pulse.source_list()
            ]
            return sources, info.default_source_name, info.default_sink_name
    except Exception:  # noqa: BLE001 - no pulsectl or no server: fall back to pactl
        pass
    try:
        out = subprocess.run(["pactl", "list", "short", "sources"], capture_output=True, text=True, timeout=5)
        info = subprocess.run(["pactl", "info"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return [], None, None
    if out.returncode != 0:
        return [], None, None
    sources = []
    for line in out.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 4:
            spec = parts[3].split()
            channels = int(spec[1].rstrip("ch")) if len(spec) > 1 else 2
            rate = int(spec[2].rstrip("Hz")) if len(spec) > 2 else 48000
            sources.append(PulseSource(parts[1], parts[1], channels, rate, parts[1].endswith(".monitor")))
    fields = dict(line.split(": ", 1) for line in info.stdout.splitlines() if ": " in line)
    return sources, fields.get("Default Source"), fields.get("Default Sink")


def pulse_source_exists(name: str) -> bool:
    return any(s.name == name for s in pulse_sources()[0])


# --- listing and choosing ----------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceInventory:
    devices: tuple[InputDevice, ...]
    default_agent: Optional[InputDevice]
    default_customer: Optional[InputDevice]


def inventory() -> DeviceInventory:
    sd = sounddevice()
    try:
        raw = sd.query_devices()
        hostapis = sd.query_hostapis()
        default_in = sd.default.device[0]
    except Exception as exc:  # noqa: BLE001
        raise DeviceError(f"The sound system could not list devices ({exc}).") from None
    devices: list[InputDevice] = []
    pulse_index = None
    for index, d in enumerate(raw):
        if d["name"] == "pulse":
            pulse_index = index
        if d["max_input_channels"] <= 0:
            continue
        name = d["name"]
        devices.append(InputDevice(
            key=str(index), name=name, hostapi=hostapis[d["hostapi"]]["name"], channels=int(d["max_input_channels"]),
            rate=int(d["default_samplerate"]), portaudio_index=index,
            captures_output=any(h in name.lower() for h in VIRTUAL_HINTS),
        ))
    default_agent = next((d for d in devices if d.portaudio_index == default_in), devices[0] if devices else None)
    default_customer = next((d for d in devices if d.captures_output), None)
    if pulse_index is not None:
        sources, default_source, default_sink = pulse_sources()
        pulse_devices = [
            InputDevice(key=s.name, name=s.description, hostapi="PulseAudio", channels=s.channels, rate=s.rate,
                        portaudio_index=pulse_index, pulse_source=s.name, captures_output=s.monitor)
            for s in sources
        ]
        devices = pulse_devices + devices
        by_name = {d.key: d for d in pulse_devices}
        if default_source in by_name and not by_name[default_source].captures_output:
            default_agent = by_name[default_source]
        if default_sink and f"{default_sink}.monitor" in by_name:
            default_customer = by_name[f"{default_sink}.monitor"]
    return DeviceInventory(tuple(devices), default_agent, default_customer)


def resolve(spec: str, inv: DeviceInventory) -> InputDevice:
    """A device from what the user typed: a PortAudio index, a Pulse source name, or a unique part of a name."""
    spec = spec.strip()
    for device in inv.devices:
        if device.key == spec:
            return device
    needle = spec.lower()
    matches = [d for d in inv.devices if needle in d.key.lower() or needle in d.name.lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise DeviceError(f"No input device matches '{spec}'; 'companion devices' lists them.")
    names = ", ".join(f"{d.key} ({d.name})" for d in matches[:6])
    raise DeviceError(f"'{spec}' matches several devices: {names}; give more of the name or the number.")


def customer_source_guide(window: bool = False) -> str:
    """What to do when no input captures the softphone's sound, for this system; `window`: said to someone in
    the Setup dialog (choose it in the list) rather than on the command line (--customer-device)."""
    def choose(device: str) -> str:
        return f"choose {device} as the customer's sound" if window else f"pass --customer-device {device}"

    if sys.platform.startswith("linux"):
        listed = "the list below shows them" if window else "'companion devices' lists them"
        return ("No source captures the softphone's sound. On PulseAudio/PipeWire every output has a monitor: "
                f"{listed}; {choose('<output>.monitor')}.")
    if sys.platform == "win32":
        return ("This PortAudio has no WASAPI loopback devices. Install VB-CABLE, set the softphone's speaker to "
                f"'CABLE Input', and {choose(chr(34) + 'CABLE Output' + chr(34))}.")
    if sys.platform == "darwin":
        return ("macOS cannot record another app's sound directly. Install BlackHole 2ch, create a Multi-Output Device "
                "(your headset + BlackHole) in Audio MIDI Setup, make it the softphone's speaker, and "
                f"{choose('BlackHole')}.")
    return f"No input captures the softphone's sound; {choose('the input that does')}."
