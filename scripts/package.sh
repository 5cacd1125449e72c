#!/usr/bin/env bash
# Builds Overcast's release artifacts into dist/:
#   overcast-VERSION-linux-x86_64   the binary: Swift runtime and Foundation linked in,
#                                   only the distribution's C libraries needed
#   overcast_VERSION_amd64.deb      the Debian 12 package (binary, units, man pages,
#                                   completions, example configuration)
# Needs the build tools only (scripts/setup.sh --build installs them); it never starts,
# stops or touches a daemon. The version comes from `git describe` (tags vX.Y.Z), else
# BuildInfo's base version and the commit count.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dist=$root/dist
work=$(mktemp -d)
info=Sources/overcast/BuildInfo.swift
cp "$info" "$work/BuildInfo.swift"
restore() { cp "$work/BuildInfo.swift" "$root/$info"; rm -rf "$work"; }
trap restore EXIT

base=$(sed -n 's/.*static let version = "\(.*\)"/\1/p' "$info")
commit=$(git rev-parse --short=12 HEAD)
if described=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
  # v0.2.0 -> 0.2.0; v0.2.0-5-gabc -> 0.2.0+5.gabc (sorts after the tag, as dpkg wants)
  version=${described#v}
  version=$(printf '%s' "$version" | sed -E 's/-([0-9]+)-g/+\1.g/')
else
  version="$base+git$(git rev-list --count HEAD).g$(git rev-parse --short HEAD)"
fi
git diff --quiet HEAD -- Sources Package.swift || version="$version.dirty"
echo "package: overcast $version (commit $commit)"

sed -i -e "s/static let version = \".*\"/static let version = \"$version\"/" \
       -e "s/static let commit = \".*\"/static let commit = \"$commit\"/" "$info"
echo "package: building (release, static Swift runtime)..."
swift build -c release --static-swift-stdlib --product overcast >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log"; exit 1; }
swift build --product generate-manual >>"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
binary=$(swift build -c release --show-bin-path)/overcast
manual=$(swift build --show-bin-path)/generate-manual

if ldd "$binary" | grep -q 'libswift\|libFoundation'; then
  echo "package: $binary still needs a Swift runtime library:" >&2; ldd "$binary" >&2; exit 1
fi
"$binary" --version | grep -qF "$version" || { echo "package: --version does not say $version" >&2; exit 1; }

stage=$work/stage
install -d "$stage/DEBIAN" "$stage/usr/sbin" "$stage/lib/systemd/system" "$stage/etc/overcast" "$stage/etc/default" \
  "$stage/usr/share/man/man8" "$stage/usr/share/doc/overcast" "$stage/usr/share/bash-completion/completions" \
  "$stage/usr/share/zsh/vendor-completions" "$stage/usr/share/fish/vendor_completions.d"
install -m 755 "$binary" "$stage/usr/sbin/overcast"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/sbin/overcast"
install -m 644 packaging/systemd/*.service "$stage/lib/systemd/system/"
install -m 644 packaging/overcast.conf "$stage/etc/overcast/overcast.conf"
install -m 644 packaging/default "$stage/etc/default/overcast"
install -m 644 packaging/debian/copyright "$stage/usr/share/doc/overcast/copyright"
printf 'overcast (%s) unstable; urgency=medium\n\n  * Release built from commit %s.\n\n -- Overcast maintainers <maintainers@overcast.invalid>  %s\n' \
  "$version" "$commit" "$(git log -1 --format=%aD)" | gzip -9n >"$stage/usr/share/doc/overcast/changelog.gz"
# overcast(8) and one page per subcommand, from the same help text as --help.
"$manual" "$binary" --multi-page --section 8 --date "$(git log -1 --format=%cs)" \
  --authors "Overcast maintainers<maintainers@overcast.invalid>" -o "$stage/usr/share/man/man8"
# mdoc's NAME of a subcommand page is "overcast run", which whatis (lexgrog, mandb)
# cannot parse: NAME says overcast.run, as the page is named, and the synopsis keeps
# "overcast run", as it is typed.
for page in "$stage"/usr/share/man/man8/*.8; do
  awk '/^\.Sh NAME$/ { inName = 1; print; next }
       inName && /^\.Nm "/ { full = substr($0, 5); name = full; gsub(/"/, "", name); gsub(/ /, ".", name)
                             print ".Nm " name; inName = 0; next }
       inName && /^\.Nm / { inName = 0 }
       /^\.Nd "/ { sub(/^\.Nd "/, ".Nd "); sub(/"$/, "") }
       /^\.Nm$/ && full != "" { print ".Nm " full; next }
       { print }' "$page" >"$page.new"
  mv "$page.new" "$page"
  lexgrog "$page" >/dev/null || { echo "package: whatis cannot read $page" >&2; exit 1; }
done
gzip -9n "$stage"/usr/share/man/man8/*.8
# bash-completion sources the file: no #! line.
"$stage/usr/sbin/overcast" --generate-completion-script bash | sed '1{/^#!/d}' >"$stage/usr/share/bash-completion/completions/overcast"
"$stage/usr/sbin/overcast" --generate-completion-script zsh >"$stage/usr/share/zsh/vendor-completions/_overcast"
"$stage/usr/sbin/overcast" --generate-completion-script fish >"$stage/usr/share/fish/vendor_completions.d/overcast.fish"
chmod 644 "$stage"/usr/share/*/completions/* "$stage"/usr/share/zsh/vendor-completions/* "$stage"/usr/share/fish/vendor_completions.d/*

# Depends: from the shared libraries the binary links, as dpkg-shlibdeps computes them.
mkdir -p "$work/src/debian"
printf 'Source: overcast\n\nPackage: overcast\nArchitecture: any\n' >"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O "$stage/usr/sbin/overcast" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# ip is called (overlay, lab-free checks of the host), not linked; setpriv (scripts run as
# script_user) is in util-linux, which is essential. procps: /bin/kill of overcast.service's
# ExecReload (and pgrep of the example's vrrp_script); a minbase Debian 12 has neither
# (scripts/install-test.sh checks every Exec command of the units is installed).
depends="$depends, iproute2, procps"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" packaging/debian/control.in >"$stage/DEBIAN/control"
printf '/etc/overcast/overcast.conf\n/etc/default/overcast\n' >"$stage/DEBIAN/conffiles"
install -m 755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$stage/DEBIAN/"
(cd "$stage" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) >"$stage/DEBIAN/md5sums"

mkdir -p "$dist"
install -m 755 "$stage/usr/sbin/overcast" "$dist/overcast-$version-linux-x86_64"
deb="$dist/overcast_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "package: $dist/overcast-$version-linux-x86_64"
echo "package: $deb"
# Lintian clean: an error or warning fails the build (a tag that must stay goes in
# packaging/debian/lintian-overrides.txt with the reason beside it).
if command -v lintian >/dev/null; then
  lintian --fail-on error,warning --suppress-tags-from-file packaging/debian/lintian-overrides.txt "$deb"
elif [ "${CI:-}" = true ]; then
  echo "package: lintian is missing (scripts/setup.sh installs it)" >&2
  exit 1
fi
