package ntfs

import (
	"hash/fnv"
	"strings"
)

// shortName is the 8.3 name FileAlternateNameInformation reports for a long name: the
// name itself when it already is a valid 8.3 name, else a mangled one made of up to two
// leading characters, four characters of a hash of the whole name, "~" and a fifth hash
// character, then up to three characters of the extension ("LO3K2Z~A.TXT"). Clients such as
// smbclient's allinfo stop when the query fails, so every file has one. The root has none
// (ok false).
func shortName(long string) (string, bool) {
	if long == "" {
		return "", false
	}
	if is83(long) {
		return long, true
	}
	base, ext := long, ""
	if i := strings.LastIndexByte(long, '.'); i > 0 {
		base, ext = long[:i], long[i+1:]
	}
	keep := func(s string, n int) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			if b.Len() >= n {
				break
			}
			if r < 0x80 && r > ' ' && !strings.ContainsRune(`."/\[]:+|<>=;?*,~`, r) {
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	h := fnv.New32a()
	h.Write([]byte(fold(long)))
	sum := h.Sum32()
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var hash [5]byte
	for i := range hash {
		hash[i] = digits[sum%36]
		sum /= 36
	}
	name := keep(base, 2) + string(hash[:4]) + "~" + string(hash[4])
	if e := keep(ext, 3); e != "" {
		name += "." + e
	}
	return name, true
}

// is83 reports whether name is a valid DOS 8.3 name: 1-8 characters, an optional dot and
// 1-3 characters of extension, printable ASCII without the characters DOS names refuse.
func is83(name string) bool {
	if name == "." || name == ".." {
		return true
	}
	base, ext, dot := strings.Cut(name, ".")
	if len(base) == 0 || len(base) > 8 || len(ext) > 3 || (dot && len(ext) == 0) || strings.Contains(ext, ".") {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"/\[]:+|<>=;?*,`, r) {
			return false
		}
	}
	return true
}
