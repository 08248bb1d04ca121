# webrtcvad is installed by the `webrtcvad-wheels` distribution; the contributed hook looks for the
# metadata of a `webrtcvad` distribution that is not there. The extension module needs nothing more.
from PyInstaller.utils.hooks import copy_metadata

try:
    datas = copy_metadata("webrtcvad-wheels")
except Exception:
    datas = []
