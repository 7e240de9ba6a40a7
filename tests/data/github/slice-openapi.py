#!/usr/bin/env python3
"""Writes openapi-slice.json: the part of GitHub's REST API description that shipgate's
tests check against (the operations below, every component they reference, transitively).

Usage: slice-openapi.py PATH/TO/api.github.com.json [OUT]
OUT defaults to openapi-slice.json beside this script. The input is the file
`generated/api.github.com.json` of the npm package @octokit/openapi (see README.md).
Add a path here when the fake implements a new route, then re-run.
"""
import json
import os
import sys

# Every route fake-github implements (tests/fake-github/src/routes/mod.rs) and every route
# its contract test checks (tests/fake-github/tests/all/contract.rs).
PATHS = [
    "/user",
    "/orgs/{org}/teams/{team_slug}",
    "/orgs/{org}/teams/{team_slug}/memberships/{username}",
    "/repos/{owner}/{repo}",
    "/repos/{owner}/{repo}/actions/permissions/workflow",
    "/repos/{owner}/{repo}/branches/{branch}",
    "/repos/{owner}/{repo}/branches/{branch}/protection",
    "/repos/{owner}/{repo}/collaborators/{username}/permission",
    "/repos/{owner}/{repo}/commits/{ref}",
    "/repos/{owner}/{repo}/commits/{ref}/status",
    "/repos/{owner}/{repo}/commits/{ref}/statuses",
    "/repos/{owner}/{repo}/git/matching-refs/{ref}",
    "/repos/{owner}/{repo}/git/ref/{ref}",
    "/repos/{owner}/{repo}/git/refs",
    "/repos/{owner}/{repo}/git/refs/{ref}",
    "/repos/{owner}/{repo}/git/tags",
    "/repos/{owner}/{repo}/git/tags/{tag_sha}",
    "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}",
    "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions",
    "/repos/{owner}/{repo}/pulls",
    "/repos/{owner}/{repo}/pulls/{pull_number}",
    "/repos/{owner}/{repo}/pulls/{pull_number}/commits",
    "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
    "/repos/{owner}/{repo}/releases",
    "/repos/{owner}/{repo}/releases/{release_id}",
    "/repos/{owner}/{repo}/releases/tags/{tag}",
    "/repos/{owner}/{repo}/rules/branches/{branch}",
    "/repos/{owner}/{repo}/rulesets",
    "/repos/{owner}/{repo}/rulesets/{ruleset_id}",
    "/repos/{owner}/{repo}/statuses/{sha}",
]

# Prose and examples: not read by the tests, and most of the size.
DROPPED = {"description", "examples", "example", "externalDocs", "x-github", "x-octokit"}


def strip(node):
    """`node` without DROPPED keys; the keys of a `properties` object are field names, all kept."""
    if isinstance(node, dict):
        return {
            k: ({name: strip(field) for name, field in v.items()}
                if k == "properties" and isinstance(v, dict) else strip(v))
            for k, v in node.items() if k not in DROPPED
        }
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def refs(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            refs(value, found)
    elif isinstance(node, list):
        for value in node:
            refs(value, found)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    source = json.load(open(sys.argv[1], encoding="utf-8"))
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "openapi-slice.json")
    missing = [p for p in PATHS if p not in source["paths"]]
    if missing:
        sys.exit(f"not in the description: {missing}")
    paths = {p: strip(source["paths"][p]) for p in PATHS}
    components = {}
    pending = set()
    refs(paths, pending)
    done = set()
    while pending:
        ref = pending.pop()
        if ref in done:
            continue
        done.add(ref)
        parts = ref.split("/")
        if len(parts) != 4 or parts[:2] != ["#", "components"]:
            sys.exit(f"unexpected reference {ref}")
        kind, name = parts[2], parts[3]
        node = strip(source["components"][kind][name])
        components.setdefault(kind, {})[name] = node
        refs(node, pending)
    slice_ = {
        "openapi": source["openapi"],
        "info": {
            "title": "A slice of GitHub's REST API description, for shipgate's tests",
            "version": source["info"]["version"],
        },
        "paths": paths,
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }
    with open(out, "w", encoding="utf-8") as f:
        json.dump(slice_, f, indent=1, sort_keys=False, ensure_ascii=False)
        f.write("\n")


main()
