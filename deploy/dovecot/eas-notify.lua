-- eas-notify.lua: Dovecot push_notification Lua driver that tells
-- eas-notifyd about mailbox changes, so parked ActiveSync Pings wake at once.
--
-- Sends one UDP datagram (format: fcgi/notify/README.md, version 1, signed
-- with HMAC-SHA256) per changed mailbox and kind of change, when the
-- transaction has committed: MessageNew -> new, MessageAppend -> append,
-- FlagsSet/FlagsClear -> flags, MessageExpunge -> expunge, MailboxCreate /
-- MailboxDelete / MailboxRename -> folder_create / folder_delete /
-- folder_rename. A thousand flags changed in one STORE make one datagram.
--
-- Plugin settings (see eas-notify.conf):
--   eas_notify_udp          = 127.0.0.1:4610   where eas-notifyd listens
--   eas_notify_secret_file  = /etc/eas-fcgi/notify.secret  (readable by the mail user)
-- Needs lua-socket (Debian package lua-socket) for the UDP socket. Without it,
-- or without a readable secret, the script logs one warning per process and
-- sends nothing: mail keeps working, Pings then see changes at their heartbeat.
-- Lua 5.3+ (string.pack and integer bit operators); Dovecot 2.3 on Debian 12 uses 5.4.

local have_socket, socket = pcall(require, "socket")

-- SHA-256 (FIPS 180-4) and HMAC (RFC 2104), on Lua's 64-bit integers masked
-- to 32 bits. Written here because Dovecot's Lua API offers no hashing.
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
local H0 = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
local M32 = 0xffffffff

local function ror(x, n)
  return ((x >> n) | (x << (32 - n))) & M32
end

local function sha256(msg)
  local len = #msg
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64) .. string.pack(">I8", len * 8)
  local h = { table.unpack(H0) }
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      w[i] = string.unpack(">I4", msg, chunk + i * 4)
    end
    for i = 16, 63 do
      local x, y = w[i - 15], w[i - 2]
      local s0 = ror(x, 7) ~ ror(x, 18) ~ (x >> 3)
      local s1 = ror(y, 17) ~ ror(y, 19) ~ (y >> 10)
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & M32
    end
    local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
    for i = 0, 63 do
      local t1 = (hh + (ror(e, 6) ~ ror(e, 11) ~ ror(e, 25)) + ((e & f) ~ (~e & g))
                  + K[i + 1] + w[i]) & M32
      local t2 = ((ror(a, 2) ~ ror(a, 13) ~ ror(a, 22)) + ((a & b) ~ (a & c) ~ (b & c))) & M32
      hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & M32, c, b, a, (t1 + t2) & M32
    end
    h[1] = (h[1] + a) & M32; h[2] = (h[2] + b) & M32
    h[3] = (h[3] + c) & M32; h[4] = (h[4] + d) & M32
    h[5] = (h[5] + e) & M32; h[6] = (h[6] + f) & M32
    h[7] = (h[7] + g) & M32; h[8] = (h[8] + hh) & M32
  end
  return string.pack(">I4I4I4I4I4I4I4I4", table.unpack(h))
end

local function xor_bytes(s, byte)
  return (s:gsub(".", function(ch) return string.char(string.byte(ch) ~ byte) end))
end

local function hmac_sha256(key, msg)
  if #key > 64 then key = sha256(key) end
  key = key .. string.rep("\0", 64 - #key)
  return sha256(xor_bytes(key, 0x5c) .. sha256(xor_bytes(key, 0x36) .. msg))
end

-- Per process: settings, socket, nonce prefix. Loaded on first use.
local state = nil
local warned = false

local function warn_once(text)
  if not warned then
    warned = true
    dovecot.i_warning("eas-notify: " .. text .. "; no change events are sent")
  end
end

local function load_state(user)
  if state ~= nil then return state end
  if not have_socket then
    warn_once("lua-socket is not installed (Debian package lua-socket)")
    return nil
  end
  local target = user:plugin_getenv("eas_notify_udp") or ""
  local host, port = target:match("^([%d%.]+):(%d+)$")
  if host == nil then
    warn_once("eas_notify_udp is not set to IPv4:port (got '" .. target .. "')")
    return nil
  end
  local path = user:plugin_getenv("eas_notify_secret_file") or ""
  local f = io.open(path, "rb")
  if f == nil then
    warn_once("cannot read eas_notify_secret_file '" .. path .. "'")
    return nil
  end
  local secret = (f:read("a") or ""):gsub("[\r\n]+$", "")
  f:close()
  if #secret < 16 then
    warn_once("the secret in '" .. path .. "' is shorter than 16 bytes")
    return nil
  end
  local rnd = io.open("/dev/urandom", "rb")
  local prefix = rnd and rnd:read(8) or string.pack(">I8", os.time())
  if rnd then rnd:close() end
  local udp = socket.udp()
  udp:setpeername(host, tonumber(port))
  state = { udp = udp, secret = secret, prefix = prefix, counter = 0 }
  return state
end

local function send(st, username, folder, kind)
  st.counter = st.counter + 1
  -- nonce: 8 random bytes per process + a counter: unique per datagram.
  local nonce = st.prefix .. string.pack(">I8", st.counter)
  local body = string.pack(">c4 B I8 c16 s2 s1 s2 s1", "EASN", 1, os.time(), nonce,
                           username, "imap", folder, kind)
  st.udp:send(body .. hmac_sha256(st.secret, body))
end

function dovecot_lua_notify_begin_txn(user)
  return { user = user, changes = {}, seen = {} }
end

local function note(ctx, folder, kind)
  local key = kind .. "\0" .. (folder or "")
  if ctx.seen[key] then return end
  ctx.seen[key] = true
  table.insert(ctx.changes, { folder = folder or "", kind = kind })
end

function dovecot_lua_notify_event_message_new(ctx, event) note(ctx, event.mailbox, "new") end
function dovecot_lua_notify_event_message_append(ctx, event) note(ctx, event.mailbox, "append") end
function dovecot_lua_notify_event_flags_set(ctx, event) note(ctx, event.mailbox, "flags") end
function dovecot_lua_notify_event_flags_clear(ctx, event) note(ctx, event.mailbox, "flags") end
function dovecot_lua_notify_event_message_expunge(ctx, event) note(ctx, event.mailbox, "expunge") end
function dovecot_lua_notify_event_mailbox_create(ctx, event) note(ctx, event.mailbox, "folder_create") end
function dovecot_lua_notify_event_mailbox_delete(ctx, event) note(ctx, event.mailbox, "folder_delete") end
function dovecot_lua_notify_event_mailbox_rename(ctx, event) note(ctx, event.mailbox, "folder_rename") end

function dovecot_lua_notify_end_txn(ctx, success)
  if not success or #ctx.changes == 0 then return end
  local st = load_state(ctx.user)
  if st == nil then return end
  for _, c in ipairs(ctx.changes) do
    send(st, ctx.user.username, c.folder, c.kind)
  end
end
