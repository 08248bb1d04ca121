#!/usr/bin/env bash
# Build the Linux app with PyInstaller and pack it as a tarball with its desktop entry,
# AppStream metainfo and icons; `install.sh` inside puts it in ~/.local (no root needed).
# Usage: bash packaging/linux/build-tarball.sh   (from a checkout, with the app and pyinstaller installed)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION="$(python -c 'import companion; print(companion.__version__)')"
OUT="$ROOT/dist"
STAGE="$OUT/call-companion-$VERSION-linux-$(uname -m)"
pyinstaller --noconfirm --log-level WARN --distpath "$OUT" --workpath "$ROOT/build/pyinstaller" \
    "$ROOT/packaging/pyinstaller/companion.spec"
rm -rf "$STAGE" && mkdir -p "$STAGE/share/applications" "$STAGE/share/metainfo" "$STAGE/share/icons"
mv "$OUT/companion" "$STAGE/app"
cp "$ROOT/packaging/linux/io.github.callcompanion.CallCompanion.desktop" "$STAGE/share/applications/"
cp "$ROOT/packaging/linux/io.github.callcompanion.CallCompanion.metainfo.xml" "$STAGE/share/metainfo/"
cp -r "$ROOT/resources/icons/hicolor" "$STAGE/share/icons/"
mkdir -p "$STAGE/share/icons/hicolor/scalable/apps"
cp "$ROOT/resources/icons/call-companion.svg" "$STAGE/share/icons/hicolor/scalable/apps/"
cat > "$STAGE/install.sh" <<'INSTALL'
#!/usr/bin/env bash
# Installs Call Companion for this user: the app in ~/.local/lib, `companion` in ~/.local/bin.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PREFIX="${PREFIX:-$HOME/.local}"
mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$PREFIX/share"
rm -rf "$PREFIX/lib/call-companion" && cp -r "$HERE/app" "$PREFIX/lib/call-companion"
ln -sf "$PREFIX/lib/call-companion/companion" "$PREFIX/bin/companion"
cp -r "$HERE/share/." "$PREFIX/share/"
command -v update-desktop-database >/dev/null && update-desktop-database "$PREFIX/share/applications" || true
echo "Installed. Run: companion --self-check"
INSTALL
chmod +x "$STAGE/install.sh"
tar -C "$OUT" -czf "$STAGE.tar.gz" "$(basename "$STAGE")"
du -sh "$STAGE/app" "$STAGE.tar.gz"
