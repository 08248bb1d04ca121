; Inno Setup script for Call Companion on Windows.
; Build the app first:  pyinstaller --noconfirm packaging\pyinstaller\companion.spec
; then:                 iscc packaging\windows\companion.iss
#define AppVersion "0.1.0"

[Setup]
AppId={{6C7E1B52-3F1A-4C8E-9A54-CA11C0AC0001}
AppName=Call Companion
AppVersion={#AppVersion}
AppPublisher=The Call Companion developers
DefaultDirName={autopf}\Call Companion
DefaultGroupName=Call Companion
OutputBaseFilename=call-companion-{#AppVersion}-setup
SetupIconFile=call-companion.ico
Compression=lzma2
SolidCompression=yes
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=lowest
WizardStyle=modern

[Files]
Source: "..\..\dist\companion\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{group}\Call Companion"; Filename: "{app}\companion.exe"; IconFilename: "{app}\companion.exe"
Name: "{group}\Call Companion demo"; Filename: "{app}\companion.exe"; Parameters: "--demo"
Name: "{autodesktop}\Call Companion"; Filename: "{app}\companion.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Messages]
FinishedLabel=Call Companion is installed.%n%nBefore the first call: allow desktop apps to use the microphone (Settings > Privacy > Microphone), and give the softphone a loopback or a virtual cable (VB-CABLE) so the customer can be heard. Setup... in the app guides you.

[Run]
Filename: "{app}\companion.exe"; Parameters: "--self-check"; Flags: runhidden
Filename: "{app}\companion.exe"; Description: "Open Call Companion"; Flags: nowait postinstall skipifsilent
