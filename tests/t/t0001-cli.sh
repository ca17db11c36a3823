#!/bin/bash
# t0001-cli.sh - the command line itself: dispatch, usage errors, help.
. "$(dirname "$0")/../lib/test-lib.sh"

expect 2 "no command is a usage error" -- "$KILN"
expect 2 "an unknown command is a usage error" -- "$KILN" frobnicate
grep -q "unknown command 'frobnicate'" "$T/err" && ok "it names the command" || not_ok "it names the command"
expect 0 "kiln help lists the commands" -- "$KILN" help
grep -q '^  resolve ' "$T/out" && ok "help lists resolve" || not_ok "help lists resolve"
expect 0 "kiln --version" -- "$KILN" --version
expect 2 "kiln help on an unknown command" -- "$KILN" help frobnicate
expect 2 "resolve without a recipe" -- "$KILN" resolve
err_has "expected one RECIPE"
expect 2 "resolve with an unknown option" -- "$KILN" resolve --frob x.recipe
err_has "unknown option '--frob'"
expect 2 "boot with a bad image name" -- "$KILN" boot ../x/2026.11.0
err_has "bad image name '../x/2026.11.0'"
expect 2 "manifest show with a bad image name" -- "$KILN" manifest show redis/latest
expect 2 "an option without its value" -- "$KILN" tick --now
err_has "option '--now' needs a value"
expect 2 "a bad --now" -- "$KILN" resolve --now yesterday "$TOP/recipes/redis.recipe"
err_has "bad date 'yesterday'"

# Every long option a cmd-*.c declares appears in its help text.
for f in "$TOP"/cli/cmd-*.c; do
	cmd=$(basename "$f" .c); cmd=${cmd#cmd-}
	"$KILN" help "$cmd" > "$T/help" 2>&1 || { not_ok "kiln help $cmd"; continue; }
	missing=
	for o in $(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", [a-z_]*_argument.*/\1/p' "$f"); do
		[ "$o" = help ] && continue
		grep -q -- "--$o" "$T/help" || missing="$missing --$o"
	done
	[ -z "$missing" ] && ok "help $cmd documents every option" || not_ok "help $cmd lacks:$missing"
done
test_done
