#!/bin/sh
# Installs, upgrades, repairs or removes the Beckon agent on a Linux server.
#
#   curl -fsSL https://auth.example.com/install.sh | sudo sh -s -- --token <enrollment-token>
#
# The auth-service serves this script and the agent bundle; the server needs nothing but
# outbound HTTPS (here) and MQTTS (the agent). Running it again upgrades the agent and repairs
# files, folders and the service; existing config and credentials are kept. POSIX sh only.
# `sh install.sh --help` lists the options.
#
# Everything is inside main(), called on the last line, so a download cut short by the network
# runs nothing at all.

set -eu

# The auth-service replaces this placeholder with its public URL when it serves the script,
# so the one-line install needs no --url. Left as it is (a copy from the repository), --url
# is required.
SERVED_FROM='@BECKON_PUBLIC_URL@'

SERVICE_USER=beckon
SERVICE_NAME=beckon-agent.service
BIN_PATH=/usr/local/bin/beckon-agent
CONFIG_DIR=/etc/beckon
STATE_DIR=/var/lib/beckon-agent
UNIT_DIR=/etc/systemd/system

# curl/wget limits: a dead host fails fast; the ~100 MB bundle may take a while on slow links.
CONNECT_TIMEOUT_S=10
PROBE_TIMEOUT_S=20
DOWNLOAD_TIMEOUT_S=1800
DOWNLOAD_RETRIES=2

TOKEN_MIN_LENGTH=16
TOKEN_MAX_LENGTH=256
AGENT_ID_MAX_LENGTH=128

usage() {
  cat <<'EOF'
Beckon agent installer

usage: install.sh --token <enrollment-token> [options]
       install.sh --uninstall [--purge] [options]

  --token TOKEN     one-time enrollment token from the operator (not needed when the agent
                    is already enrolled, unless --force-enroll)
  --url URL         the auth-service's public URL (default: the URL this script was served
                    from, when the auth-service filled it in)
  --agent-id ID     ask for this agent id (the token may fix it instead)
  --broker-url URL  broker for a new config (default: mqtts://<host of --url>:8883)
  --ca-file FILE    CA certificate for the broker's TLS (copied to /etc/beckon/ca.pem)
  --force-enroll    enroll again although credentials exist (replaces them)
  --allow-plaintext accept http:// and mqtt:// URLs (local test setups only)
  --no-systemd      install the unit file but neither enable nor start it
  --root DIR        install everything under DIR and point config and unit at those paths,
                    without creating users, changing owners or touching systemd (trials, tests)
  --uninstall       stop and remove the service and the agent binary; keep config, state,
                    credentials and the user unless --purge
  --purge           with --uninstall: remove those too
  -h, --help        show this help

Files: /usr/local/bin/beckon-agent, /etc/beckon/agent.yaml (config, kept once written),
/etc/beckon/credentials.json (0600), /var/lib/beckon-agent (state),
/etc/systemd/system/beckon-agent.service.
EOF
}

say() {
  printf 'beckon-install: %s\n' "$*"
}

warn() {
  printf 'beckon-install: warning: %s\n' "$*" >&2
}

die() {
  printf 'beckon-install: error: %s\n' "$*" >&2
  exit 1
}

die_usage() {
  printf 'beckon-install: error: %s\n(see install.sh --help)\n' "$*" >&2
  exit 2
}

# $1 option name, $2 number of arguments left, $3 the value (if any).
need_value() {
  if [ "$2" -lt 2 ]; then
    die_usage "$1 needs a value"
  fi

  case $3 in
    -*) die_usage "$1 needs a value, got the option $3" ;;
    *) ;;
  esac
}

has() {
  command -v "$1" >/dev/null 2>&1
}

# --- argument checks --------------------------------------------------------------------

check_token() {
  length=${#TOKEN}

  if [ "$length" -lt "$TOKEN_MIN_LENGTH" ] || [ "$length" -gt "$TOKEN_MAX_LENGTH" ]; then
    die_usage "--token must be $TOKEN_MIN_LENGTH to $TOKEN_MAX_LENGTH characters, got $length"
  fi

  case $TOKEN in
    *[!A-Za-z0-9._~+/=-]*) die_usage "--token contains characters a token never has" ;;
    *) ;;
  esac
}

check_agent_id() {
  if [ -z "$AGENT_ID" ] || [ "${#AGENT_ID}" -gt "$AGENT_ID_MAX_LENGTH" ]; then
    die_usage "--agent-id must be 1 to $AGENT_ID_MAX_LENGTH characters"
  fi

  case $AGENT_ID in
    *[!A-Za-z0-9._@-]*) die_usage "--agent-id may hold only letters, digits and . _ @ -" ;;
    *) ;;
  esac
}

# $1 option name, $2 value, $3 secure scheme, $4 plaintext scheme. Prints the URL without a
# trailing slash. Only URL characters are accepted (no spaces, quotes, backslashes, `$`), so
# the value is safe inside the YAML and the command lines it is written to.
check_url() {
  case $2 in
    *[!A-Za-z0-9._~:/?#@%+=,\;\&-]*) die_usage "$1 contains characters a URL never has: $2" ;;
    "$3"://?*) ;;
    "$4"://?*)
      if [ "$ALLOW_PLAINTEXT" != yes ]; then
        die_usage "$1 must use $3:// ($4:// only with --allow-plaintext): $2"
      fi
      ;;
    *) die_usage "$1 must be a $3:// URL: $2" ;;
  esac

  printf '%s\n' "${2%/}"
}

# scheme://user@host:port/path -> host
url_host() {
  rest=${1#*://}
  rest=${rest%%/*}
  rest=${rest##*@}
  printf '%s\n' "${rest%%:*}"
}

check_root_dir() {
  case $ROOT in
    /*) ;;
    *) die_usage "--root must be an absolute path: $ROOT" ;;
  esac

  case $ROOT in
    *[!A-Za-z0-9._/-]*) die_usage "--root may hold only letters, digits and . _ / -: $ROOT" ;;
    *) ;;
  esac

  if [ ! -d "$ROOT" ]; then
    die_usage "--root $ROOT is not a directory"
  fi

  ROOT=${ROOT%/}
}

parse_args() {
  TOKEN=''
  URL=''
  AGENT_ID=''
  BROKER_URL=''
  CA_FILE=''
  FORCE_ENROLL=no
  ALLOW_PLAINTEXT=no
  NO_SYSTEMD=no
  ROOT=''
  UNINSTALL=no
  PURGE=no

  while [ $# -gt 0 ]; do
    case $1 in
      --token | --url | --agent-id | --broker-url | --ca-file | --root)
        need_value "$1" "$#" "${2-}"
        case $1 in
          --token) TOKEN=$2 ;;
          --url) URL=$2 ;;
          --agent-id) AGENT_ID=$2 ;;
          --broker-url) BROKER_URL=$2 ;;
          --ca-file) CA_FILE=$2 ;;
          --root) ROOT=$2 ;;
        esac
        shift 2
        ;;
      --force-enroll) FORCE_ENROLL=yes && shift ;;
      --allow-plaintext) ALLOW_PLAINTEXT=yes && shift ;;
      --no-systemd) NO_SYSTEMD=yes && shift ;;
      --uninstall) UNINSTALL=yes && shift ;;
      --purge) PURGE=yes && shift ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) die_usage "unknown option: $1" ;;
    esac
  done

  if [ "$PURGE" = yes ] && [ "$UNINSTALL" = no ]; then
    die_usage "--purge only goes with --uninstall"
  fi

  if [ -n "$ROOT" ]; then
    check_root_dir
  fi

  if [ "$UNINSTALL" = yes ]; then
    return 0
  fi

  if [ -n "$TOKEN" ]; then
    check_token
  fi

  if [ -n "$AGENT_ID" ]; then
    check_agent_id
  fi

  if [ -z "$URL" ]; then
    case $SERVED_FROM in
      http://* | https://*) URL=$SERVED_FROM ;;
      *) die_usage "--url is required (this copy of the script does not know where it came from)" ;;
    esac
  fi

  URL=$(check_url --url "$URL" https http)

  if [ -z "$BROKER_URL" ]; then
    BROKER_URL="mqtts://$(url_host "$URL"):8883"
  fi

  BROKER_URL=$(check_url --broker-url "$BROKER_URL" mqtts mqtt)

  if [ -n "$CA_FILE" ] && [ ! -r "$CA_FILE" ]; then
    die_usage "--ca-file $CA_FILE is not a readable file"
  fi
}

# --- the machine ----------------------------------------------------------------------

set_paths() {
  P_BIN=$ROOT$BIN_PATH
  P_CONFIG_DIR=$ROOT$CONFIG_DIR
  P_CONFIG=$P_CONFIG_DIR/agent.yaml
  P_CREDENTIALS=$P_CONFIG_DIR/credentials.json
  P_CA=$P_CONFIG_DIR/ca.pem
  P_STATE_DIR=$ROOT$STATE_DIR
  P_UNIT=$ROOT$UNIT_DIR/$SERVICE_NAME
}

detect_systemd() {
  USE_SYSTEMD=no
  SYSTEMD_NOTE=''

  if [ -n "$ROOT" ]; then
    SYSTEMD_NOTE='not started (--root)'
  elif [ "$NO_SYSTEMD" = yes ]; then
    SYSTEMD_NOTE='not started (--no-systemd)'
  elif ! has systemctl || [ ! -d /run/systemd/system ]; then
    SYSTEMD_NOTE='not started (systemd is not running here)'
  else
    USE_SYSTEMD=yes
  fi
}

require_root() {
  if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
    die "run as root (sudo sh -s -- ...), or use --root DIR for a trial install"
  fi
}

detect_arch() {
  if [ "$(uname -s)" != Linux ]; then
    die "the agent bundle is built for Linux only, this is $(uname -s)"
  fi

  machine=$(uname -m)

  case $machine in
    x86_64 | amd64) ARCH=x64 ;;
    aarch64 | arm64) ARCH=arm64 ;;
    *) die "no agent bundle for the $machine architecture (x86_64 and aarch64 are built)" ;;
  esac
}

check_tools() {
  if ! has curl && ! has wget; then
    die "needs curl or wget to download the agent"
  fi

  if ! has sha256sum && ! has shasum && ! has openssl; then
    die "needs sha256sum, shasum or openssl to check the agent's checksum"
  fi
}

# $1 URL, $2 destination file, $3 time limit in seconds.
fetch() {
  if has curl; then
    protocols='=https'

    if [ "$ALLOW_PLAINTEXT" = yes ]; then
      protocols='=http,https'
    fi

    curl --fail --silent --show-error --location --proto "$protocols" \
      --proto-redir "$protocols" --connect-timeout "$CONNECT_TIMEOUT_S" \
      --max-time "$3" --retry "$DOWNLOAD_RETRIES" --output "$2" "$1"
  else
    # GNU wget can refuse a redirect to plain http; BusyBox wget has no such option.
    https_only=''

    if [ "$ALLOW_PLAINTEXT" = no ] && wget --help 2>&1 | grep -q -- '--https-only'; then
      https_only='--https-only'
    fi

    wget --quiet ${https_only:+"$https_only"} --timeout="$CONNECT_TIMEOUT_S" \
      --tries="$((DOWNLOAD_RETRIES + 1))" --output-document="$2" "$1"
  fi
}

sha256_of() {
  if has sha256sum; then
    sum=$(sha256sum "$1")
  elif has shasum; then
    sum=$(shasum -a 256 "$1")
  else
    sum=$(openssl dgst -sha256 -r "$1")
  fi

  printf '%s\n' "${sum%% *}"
}

# Owners are left alone under --root: the trial install belongs to whoever ran it.
own() {
  if [ -z "$ROOT" ]; then
    chown "$1" "$2"
  fi
}

# $1 source, $2 destination, $3 mode, $4 owner:group. Replaces the destination in one rename,
# with mode and owner set before the content becomes visible under its name.
put_file() {
  staged="$2.beckon-new.$$"
  cp "$1" "$staged"
  chmod "$3" "$staged"
  own "$4" "$staged"
  mv -f "$staged" "$2"
}

# $1 folder, $2 mode, $3 owner:group.
put_dir() {
  mkdir -p "$1"
  chmod "$2" "$1"
  own "$3" "$1"
}

nologin_shell() {
  for shell in /usr/sbin/nologin /sbin/nologin /bin/false; do
    if [ -x "$shell" ]; then
      printf '%s\n' "$shell"
      return 0
    fi
  done

  printf '/bin/false\n'
}

ensure_user() {
  if [ -n "$ROOT" ]; then
    note user "not created (--root)"
  elif id "$SERVICE_USER" >/dev/null 2>&1; then
    note user "$SERVICE_USER (exists)"
  elif has useradd; then
    useradd --system --user-group --no-create-home --home-dir "$STATE_DIR" \
      --shell "$(nologin_shell)" --comment 'Beckon agent' "$SERVICE_USER"
    note user "$SERVICE_USER (created)"
  elif has adduser && has addgroup; then
    addgroup -S "$SERVICE_USER"
    adduser -S -D -H -h "$STATE_DIR" -s "$(nologin_shell)" -G "$SERVICE_USER" "$SERVICE_USER"
    note user "$SERVICE_USER (created)"
  else
    die "cannot create the $SERVICE_USER user: neither useradd nor adduser is installed"
  fi
}

ensure_dirs() {
  put_dir "$(dirname "$P_BIN")" 0755 root:root
  put_dir "$P_CONFIG_DIR" 0750 "root:$SERVICE_USER"
  put_dir "$P_STATE_DIR" 0750 "$SERVICE_USER:$SERVICE_USER"
  put_dir "$(dirname "$P_UNIT")" 0755 root:root
}

# --- the steps ------------------------------------------------------------------------

SUMMARY=''

note() {
  SUMMARY="$SUMMARY$(printf '  %-12s %s' "$1" "$2")
"
}

probe_auth_service() {
  if ! fetch "$URL/healthz" "$WORK/healthz" "$PROBE_TIMEOUT_S" 2>"$WORK/probe.err"; then
    die "cannot reach the auth-service at $URL ($(head -n 1 "$WORK/probe.err"))." \
      "Check the URL, DNS and that outbound HTTPS is allowed."
  fi
}

install_binary() {
  name="beckon-agent-linux-$ARCH"
  say "downloading $URL/agent/$name"

  if ! fetch "$URL/agent/$name.sha256" "$WORK/agent.sha256" "$PROBE_TIMEOUT_S"; then
    die "could not download $URL/agent/$name.sha256"
  fi

  expected=$(head -n 1 "$WORK/agent.sha256")
  expected=${expected%% *}

  case $expected in
    *[!0-9a-f]* | '') die "$URL/agent/$name.sha256 does not hold a SHA-256 checksum" ;;
    *) ;;
  esac

  if [ "${#expected}" -ne 64 ]; then
    die "$URL/agent/$name.sha256 does not hold a SHA-256 checksum"
  fi

  if [ -f "$P_BIN" ] && [ "$(sha256_of "$P_BIN")" = "$expected" ]; then
    note agent "$P_BIN ($("$P_BIN" --version 2>/dev/null || echo '?'), unchanged)"
    return 0
  fi

  if ! fetch "$URL/agent/$name" "$WORK/agent" "$DOWNLOAD_TIMEOUT_S"; then
    die "could not download $URL/agent/$name"
  fi

  actual=$(sha256_of "$WORK/agent")

  if [ "$actual" != "$expected" ]; then
    die "checksum mismatch for $name: expected $expected, got $actual; nothing was installed"
  fi

  chmod 0755 "$WORK/agent"

  if ! new_version=$("$WORK/agent" --version 2>"$WORK/version.err"); then
    die "the downloaded agent does not run here: $(head -n 1 "$WORK/version.err")"
  fi

  old_version=''

  if [ -x "$P_BIN" ]; then
    old_version=$("$P_BIN" --version 2>/dev/null || echo '?')
  fi

  put_file "$WORK/agent" "$P_BIN" 0755 root:root

  if [ -n "$old_version" ]; then
    note agent "$P_BIN (upgraded $old_version -> $new_version)"
  else
    note agent "$P_BIN ($new_version, installed)"
  fi
}

write_config() {
  if [ -n "$CA_FILE" ]; then
    put_file "$CA_FILE" "$P_CA" 0644 root:root
    note "CA" "$P_CA (copied from $CA_FILE)"
  fi

  if [ -f "$P_CONFIG" ]; then
    note config "$P_CONFIG (kept; edit it to change the broker or actions)"
    return 0
  fi

  ca_line="  # caFile: $CONFIG_DIR/ca.pem"

  if [ -f "$P_CA" ]; then
    ca_line="  caFile: \"$P_CA\""
  fi

  cat >"$WORK/agent.yaml" <<EOF
# Beckon agent configuration, first written by install.sh; install.sh never overwrites it.
# Add the actions this server allows under "actions" (see the agent's documentation), then
# check the file with: beckon-agent check-config --config $P_CONFIG
broker:
  url: "$BROKER_URL"
$ca_line
credentialsFile: "$P_CREDENTIALS"
stateDir: "$P_STATE_DIR"
security:
  # Refuse every command that is not signed by an app the auth-service certified.
  requireSignatures: true
actions: {}
EOF

  put_file "$WORK/agent.yaml" "$P_CONFIG" 0640 "root:$SERVICE_USER"
  note config "$P_CONFIG (written; broker $BROKER_URL)"
}

has_credentials() {
  [ -s "$P_CREDENTIALS" ] && grep -q '"password"' "$P_CREDENTIALS"
}

enroll() {
  if has_credentials && [ "$FORCE_ENROLL" = no ]; then
    note credentials "$P_CREDENTIALS (kept; --force-enroll to enroll again)"
    return 0
  fi

  if [ -z "$TOKEN" ]; then
    die "the agent is not enrolled yet: pass --token <enrollment-token> from your operator"
  fi

  say "enrolling with $URL"
  set -- enroll --url "$URL" --token "$TOKEN" --config "$P_CONFIG" \
    --credentials "$WORK/credentials.json"

  if [ -n "$AGENT_ID" ]; then
    set -- "$@" --agent-id "$AGENT_ID"
  fi

  # Written private from the first byte, then moved into place: a failed enrolment keeps
  # whatever credentials were there before.
  if ! (umask 077 && "$P_BIN" "$@"); then
    die "enrolment failed (see above); the token may be expired, used up or mistyped"
  fi

  put_file "$WORK/credentials.json" "$P_CREDENTIALS" 0600 "$SERVICE_USER:$SERVICE_USER"
  agent_id=$(sed -n 's/.*"agentId"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' \
    "$P_CREDENTIALS" | head -n 1)
  note credentials "$P_CREDENTIALS (enrolled${agent_id:+ as $agent_id})"
}

check_config() {
  if ! "$P_BIN" check-config --config "$P_CONFIG" >"$WORK/check.out" 2>&1; then
    cat "$WORK/check.out" >&2
    die "$P_CONFIG does not pass beckon-agent check-config (see above); fix it and run again"
  fi
}

install_unit() {
  if ! fetch "$URL/agent/$SERVICE_NAME" "$WORK/unit" "$PROBE_TIMEOUT_S"; then
    die "could not download $URL/agent/$SERVICE_NAME"
  fi

  if ! grep -q '^ExecStart=/usr/local/bin/beckon-agent run ' "$WORK/unit"; then
    die "$URL/agent/$SERVICE_NAME is not the Beckon agent's unit"
  fi

  if [ -n "$ROOT" ]; then
    sed -e "s#/usr/local/bin/beckon-agent#$P_BIN#g" \
      -e "s#/etc/beckon/#$P_CONFIG_DIR/#g" \
      -e "s#/var/lib/beckon-agent#$P_STATE_DIR#g" "$WORK/unit" >"$WORK/unit.rooted"
    mv -f "$WORK/unit.rooted" "$WORK/unit"
  fi

  put_file "$WORK/unit" "$P_UNIT" 0644 root:root
}

start_service() {
  if [ "$USE_SYSTEMD" = no ]; then
    note service "$P_UNIT ($SYSTEMD_NOTE)"
    note run "$P_BIN run --config $P_CONFIG"
    return 0
  fi

  systemctl daemon-reload
  systemctl enable --quiet "$SERVICE_NAME"
  # A crash loop before this run may have hit the unit's start limit.
  systemctl reset-failed "$SERVICE_NAME" 2>/dev/null || true

  if ! systemctl restart "$SERVICE_NAME"; then
    die "the agent did not start; see: journalctl -u $SERVICE_NAME -n 50"
  fi

  note service "$SERVICE_NAME (enabled, running)"
}

install_agent() {
  require_root
  detect_arch
  check_tools
  probe_auth_service
  ensure_user
  ensure_dirs
  install_binary
  write_config
  enroll
  check_config
  install_unit
  start_service

  say "done"
  printf '%s' "$SUMMARY"
}

uninstall_agent() {
  require_root

  if [ "$USE_SYSTEMD" = yes ] && [ -f "$P_UNIT" ]; then
    systemctl disable --now --quiet "$SERVICE_NAME" || warn "could not stop $SERVICE_NAME"
  fi

  for file in "$P_BIN" "$P_UNIT"; do
    if [ -e "$file" ]; then
      rm -f "$file"
      note removed "$file"
    else
      note absent "$file"
    fi
  done

  if [ "$USE_SYSTEMD" = yes ]; then
    systemctl daemon-reload
  fi

  if [ "$PURGE" = yes ]; then
    rm -rf "$P_CONFIG_DIR" "$P_STATE_DIR"

    if [ -z "$ROOT" ] && id "$SERVICE_USER" >/dev/null 2>&1; then
      userdel "$SERVICE_USER" || warn "could not remove the user $SERVICE_USER"
    fi

    note purged "$P_CONFIG_DIR, $P_STATE_DIR"
  else
    note kept "$P_CONFIG_DIR, $P_STATE_DIR and the $SERVICE_USER user (--purge removes them)"
  fi

  say "uninstalled"
  printf '%s' "$SUMMARY"
}

main() {
  parse_args "$@"
  set_paths
  detect_systemd

  WORK=$(mktemp -d "${TMPDIR:-/tmp}/beckon-install.XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  trap 'exit 130' INT TERM

  if [ "$UNINSTALL" = yes ]; then
    uninstall_agent
  else
    install_agent
  fi
}

main "$@"
