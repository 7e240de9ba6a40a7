#!/usr/bin/env bash
# Runs the shipgate command the action was asked for.
#
# Every input arrives as an environment variable (action.yml maps them) and reaches shipgate as
# one `--option=value` argument: the shell never interprets an input, and a value that starts
# with `-` cannot pass for an option. shipgate itself writes the step summary, the step outputs
# and the annotations; when it fails (exit 2 bad input, 3 infrastructure, 4 integrity) before
# writing them, this script writes `status=failed`, `exit-code` and a summary, so a later step
# (`if: failure()`) can tell what happened. It never writes `shipped`, `tag` or the release
# outputs after shipgate ran: what shipgate wrote there (what shipped before a failure) stands.
set -euo pipefail

bin="${SHIPGATE_BIN:-shipgate}"
command="${SHIPGATE_COMMAND:-}"
branch="${SHIPGATE_GOVERNANCE_BRANCH:-shipgate/audit}"

# The policy is read from the default branch; the event names it, so a checkout without
# origin/HEAD (actions/checkout makes none) does not have to guess.
policy_args=()
if [ -n "${SHIPGATE_POLICIES:-}" ]; then policy_args+=("--policies=$SHIPGATE_POLICIES"); fi
if [ -n "${SHIPGATE_DEFAULT_BRANCH:-}" ]; then policy_args+=("--default-branch=$SHIPGATE_DEFAULT_BRANCH"); fi

case "$command" in
  dry-run)
    args=(dry-run ${policy_args[@]+"${policy_args[@]}"})
    case "${GITHUB_EVENT_NAME:-}" in
      pull_request | pull_request_target)
        if [[ "${SHIPGATE_PR:-}" =~ ^[0-9]+$ ]]; then args+=("--pr=$SHIPGATE_PR"); fi
        ;;
      merge_group)
        # The merge queue's group: shipgate reads it from GITHUB_EVENT_PATH and sets the
        # `shipgate` status of its commit.
        args+=(--merge-group)
        ;;
    esac
    if [ -n "${SHIPGATE_PLAN:-}" ]; then args+=(-- "$SHIPGATE_PLAN"); fi
    ;;
  mint)
    args=(mint "--branch=$branch" ${policy_args[@]+"${policy_args[@]}"})
    ;;
  execute)
    args=(execute "--branch=$branch" ${policy_args[@]+"${policy_args[@]}"})
    if [ -n "${SHIPGATE_RUN_ID:-}" ]; then
      args+=("--run=$SHIPGATE_RUN_ID")
    else
      args+=(--pending)
    fi
    ;;
  publish)
    if [ -z "${SHIPGATE_TAG:-}" ]; then
      echo "::error title=shipgate::the publish command needs the tag input"
      if [ -n "${GITHUB_OUTPUT:-}" ]; then printf 'status=failed\nexit-code=2\nshipped=[]\n' >>"$GITHUB_OUTPUT"; fi
      exit 2
    fi
    args=(release publish "--branch=$branch" ${policy_args[@]+"${policy_args[@]}"} "--tag=$SHIPGATE_TAG")
    if [ -n "${SHIPGATE_RUN_ID:-}" ]; then args+=("--run=$SHIPGATE_RUN_ID"); fi
    ;;
  verify)
    args=(audit verify "--branch=$branch" ${policy_args[@]+"${policy_args[@]}"})
    ;;
  *)
    echo "::error title=shipgate::the command input must be dry-run, mint, execute, publish or verify"
    if [ -n "${GITHUB_OUTPUT:-}" ]; then printf 'status=failed\nexit-code=2\nshipped=[]\n' >>"$GITHUB_OUTPUT"; fi
    exit 2
    ;;
esac

# The token reaches shipgate's own git processes (fetching a pull request's head, fetching
# and pushing the governance branch) as an HTTP header in their environment only: the
# workflows check out with persist-credentials: false, so no credential sits in the clone's
# configuration for other steps, and pushes use the `token` input (a GitHub App's token, when
# the workflow makes one) rather than whatever the checkout used. The first value empties any
# header configured before, so exactly one Authorization header is sent.
if [ -n "${GITHUB_TOKEN:-}" ]; then
  server="${GITHUB_SERVER_URL:-https://github.com}"
  basic=$(printf 'x-access-token:%s' "$GITHUB_TOKEN" | base64 | tr -d '\n')
  echo "::add-mask::$basic"
  count="${GIT_CONFIG_COUNT:-0}"
  [[ "$count" =~ ^[0-9]+$ ]] || count=0
  export "GIT_CONFIG_KEY_$count=http.$server/.extraheader" "GIT_CONFIG_VALUE_$count="
  export "GIT_CONFIG_KEY_$((count + 1))=http.$server/.extraheader"
  export "GIT_CONFIG_VALUE_$((count + 1))=AUTHORIZATION: basic $basic"
  export GIT_CONFIG_COUNT=$((count + 2))
fi

errors=$(mktemp "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/shipgate-stderr.XXXXXX")
trap 'rm -f "$errors"' EXIT
code=0
# stderr is kept to quote its first line in the summary, then passed on (the runner reads
# the annotations in it either way).
"$bin" "${args[@]}" 2>"$errors" || code=$?
cat "$errors" >&2
if [ "$code" -ge 2 ]; then
  case "$code" in
    2) kind="bad input" ;;
    3) kind="infrastructure (GitHub, git or the network)" ;;
    4) kind="integrity (a forged or tampered record)" ;;
    *) kind="an unexpected failure" ;;
  esac
  first=$(grep -m 1 -v '^::' "$errors" || true)
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'status=failed\nexit-code=%s\n' "$code" >>"$GITHUB_OUTPUT"
  fi
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    {
      echo "### shipgate $command failed"
      echo
      echo "Exit $code: $kind. Nothing was shipped by this step; the log of the step says why."
      if [ -n "$first" ]; then
        echo
        echo '```text'
        printf '%s\n' "$first" | head -c 2000
        echo '```'
      fi
    } >>"$GITHUB_STEP_SUMMARY"
  fi
fi
exit "$code"
