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

# Every option 'kiln help CMD' lists is one the command (or one of its
# subcommands) accepts: each is tried before --help, which stops the command
# before it does anything.
for cmd in $("$KILN" help | sed -n 's/^  \([a-z]*\) .*/\1/p'); do
	"$KILN" help "$cmd" > "$T/help" 2>&1 || { not_ok "kiln help $cmd"; continue; }
	subs=$(sed -n "s/^\(usage:\)\{0,1\} *kiln $cmd \([a-z][a-z]*\)\( .*\)\{0,1\}$/\2/p" "$T/help" | sort -u)
	bad= n=0
	while read -r opt arg; do
		n=$((n + 1))
		accepted=
		for sub in "" $subs; do
			# shellcheck disable=SC2086
			"$KILN" "$cmd" $sub "$opt" ${arg:+x} --help > /dev/null 2> "$T/err"
			grep -q "unknown option" "$T/err" || { accepted=1; break; }
		done
		[ -n "$accepted" ] || bad="$bad $opt"
	done < <(sed -n 's/^  \(--[a-z-]*\)\( [A-Z][^ ]*\)\{0,1\} .*/\1\2/p' "$T/help")
	[ -z "$bad" ] && ok "kiln $cmd accepts the $n options its help lists" || not_ok "kiln $cmd rejects:$bad"
	# ... and each usage line's options are ones that very form accepts
	bad= n=0
	while read -r sub opts; do
		for opt in $opts; do
			n=$((n + 1))
			[ "$sub" = - ] && sub=
			# shellcheck disable=SC2086
			"$KILN" "$cmd" $sub "$opt" x --help > /dev/null 2> "$T/err"
			! grep -q "unknown option" "$T/err" || bad="$bad ${sub:+$sub:}$opt"
		done
	done < <(awk -v cmd="$cmd" '
		/^(usage:)? *kiln / { if (form) print form, opts; form = "-"; opts = "";
			if ($0 ~ ("kiln " cmd " [a-z]+( |$)")) { split($0, w, " "); form = w[($1 == "usage:") ? 4 : 3] } }
		/^$/ { if (form) print form, opts; form = "" }
		form { n = split($0, w, /[][ |]+/); for (i = 1; i <= n; i++) if (w[i] ~ /^--[a-z-]+$/) opts = opts " " w[i] }
		END { if (form) print form, opts }' "$T/help")
	[ -z "$bad" ] && ok "kiln $cmd: the $n options of its usage lines are accepted by their form" ||
		not_ok "kiln $cmd: a usage line shows what its form rejects:$bad"
done
test_done
