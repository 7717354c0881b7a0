# Shell helpers shared by the deploy/local starters and the test/servers
# fixtures (sourced, not run). Each starter sets $pidfile before calling
# pid_alive.

# True when nothing listens on 127.0.0.1:$1 (TCP).
port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# A free TCP port in 20000..59999, not among the arguments (ports already
# promised to this start-up). A port free now may be taken before the
# server binds it: starters that care retry with another.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if port_free "$port" && [[ " $* " != *" $port "* ]]; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# A pid that exited but was not reaped yet (a zombie) counts as stopped.
running() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# The pid in $pidfile is alive.
pid_alive() { [ -s "$pidfile" ] && running "$(tr -d ' \n' <"$pidfile")"; }
