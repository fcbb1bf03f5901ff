#!/bin/sh
# Start Chromium in kiosk mode on the kiosk's local page once the kiosk process answers.
# Used by systemd/hall-kiosk-browser.service; KIOSK_URL overrides the page address.
set -eu

URL="${KIOSK_URL:-http://127.0.0.1:8700/}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
PROFILE="${XDG_RUNTIME_DIR:-/tmp}/hall-kiosk-profile"

# Wait for the local page (up to 2 minutes) so the screen never shows a browser error page.
tries=0
until curl -fsS -o /dev/null "${URL}healthz" 2>/dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -ge 240 ]; then
        echo "kiosk page ${URL} not answering; starting the browser anyway" >&2
        break
    fi
    sleep 0.5
done

# A fresh profile each start: no restored tabs, no crash bubble, no saved state.
rm -rf "$PROFILE"
exec "$CHROMIUM" \
    --kiosk \
    --noerrdialogs \
    --disable-pinch \
    --overscroll-history-navigation=0 \
    --disable-features=TranslateUI,Translate,OverscrollHistoryNavigation,TouchpadOverscrollHistoryNavigation \
    --disable-session-crashed-bubble \
    --disable-infobars \
    --no-first-run \
    --disable-sync \
    --disable-background-networking \
    --disable-component-update \
    --password-store=basic \
    --lang=zh-CN \
    --user-data-dir="$PROFILE" \
    "$URL"
