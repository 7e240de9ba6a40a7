#!/usr/bin/env bash
# Runs the shipgate command the action was asked for.
#
# Every input arrives as an environment variable (action.yml maps them) and reaches shipgate as
# one `--option=value` argument: the shell never interprets an input, and a value that starts
# with `-` cannot pass for an option. shipgate itself writes the step summary, the step outputs
# and the annotations.
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
  verify)
    args=(audit verify "--branch=$branch" ${policy_args[@]+"${policy_args[@]}"})
    ;;
  *)
    echo "::error title=shipgate::the command input must be dry-run, mint, execute or verify"
    exit 2
    ;;
esac

exec "$bin" "${args[@]}"
