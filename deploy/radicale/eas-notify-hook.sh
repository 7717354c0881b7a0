#!/bin/sh
# Radicale storage hook: tells eas-notifyd that a user's CalDAV/CardDAV data
# changed, so that the user's parked ActiveSync Pings wake at once.
#
#   [storage]
#   hook = EAS_NOTIFY_SECRET_FILE=/etc/eas-fcgi/notify.secret /usr/share/eas-fcgi/radicale/eas-notify-hook.sh %(user)s
#
# Radicale (3.1) runs the hook after every write, with the storage lock held
# and the storage folder as working directory, and fails the client's request
# if the hook exits non-zero: so this script is quick and always exits 0.
# Radicale does not say which collection changed; the script sends one event
# per collection of the user modified in the last 10 seconds (folder
# "/<user>/<collection>/", kind "change"), or one for the account as a whole
# (folder "") when none is found.
#
# Environment: EAS_NOTIFY_SECRET_FILE (required), EAS_NOTIFY_UDP (default
# 127.0.0.1:4610), EASCTL (default: easctl on PATH).
user=${1:-}
[ -n "$user" ] && [ "$user" != Anonymous ] || exit 0
secret=${EAS_NOTIFY_SECRET_FILE:-}
[ -n "$secret" ] || { echo "eas-notify-hook: EAS_NOTIFY_SECRET_FILE not set" >&2; exit 0; }
udp=${EAS_NOTIFY_UDP:-127.0.0.1:4610}
easctl=${EASCTL:-easctl}

send() {
  "$easctl" notify send --user "$user" --source dav --kind change --folder "$1" \
    --udp "$udp" --secret-file "$secret" >/dev/null || true
}

root=collection-root/$user
found=""
if [ -d "$root" ]; then
  # Collections are the folders right under the user's root.
  found=$(find "$root" -mindepth 1 -maxdepth 1 -type d -newermt '-10 seconds' 2>/dev/null | head -n 20)
fi
if [ -n "$found" ]; then
  printf '%s\n' "$found" | while IFS= read -r dir; do send "/$user/${dir##*/}/"; done
else
  send ""
fi
exit 0
