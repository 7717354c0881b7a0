#!/usr/bin/env bash
# The smtp_submission_stack fixture: an eas_stack (eas-fcgi + nginx) whose
# [smtp] is the postfix fixture's STARTTLS submission port with AUTH as the
# device user, the certificate checked against the run's CA.
#
#   submission_stack.sh start <run-dir> <dovecot-env> <eas-fcgi-binary> <postfix-env>
#   submission_stack.sh stop  <run-dir>
#
# <run-dir>/env is eas_stack.sh's (EAS_URL, EAS_FCGI_LOG, ...).
set -euo pipefail
die() { echo "submission_stack.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: submission_stack.sh start <run-dir> <dovecot-env> <eas-fcgi> <postfix-env> | stop <run-dir>"
stack=$(cd "$(dirname "$0")/../eas_stack" && pwd)/eas_stack.sh
case $1 in
  start)
    [ $# -eq 5 ] || die "start needs <run-dir> <dovecot-env> <eas-fcgi> <postfix-env>"
    postfix_env=$5
    [ -r "$postfix_env" ] || die "no Postfix env at $postfix_env (the postfix fixture must run first)"
    get() { sed -n "s/^$1=//p" "$postfix_env"; }
    [ -n "$(get SMTP_SUBMISSION_PORT)" ] || die "no SMTP_SUBMISSION_PORT in $postfix_env (postfix.sh --tls)"
    exec "$stack" start "$2" "$3" "$4" "$postfix_env" \
      smtp.host="$(get SMTP_TLS_HOST)" smtp.port="$(get SMTP_SUBMISSION_PORT)" smtp.tls=starttls \
      smtp.tls_ca_file="$(get SMTP_CA_FILE)" smtp.authenticate=true
    ;;
  stop) exec "$stack" stop "$2" ;;
  *) die "unknown command $1 (start|stop)" ;;
esac
