package passthrough

import (
	"runtime"
	"strings"

	"github.com/smbvfs/smbvfs/backends/vfs"
)

// validName reports whether a name may be looked up, created or listed.
// Beyond vfs.ValidName it refuses what Windows cannot name or treats as a
// device (CON, NUL, aux.txt, COM1...), names ending in '.' or ' ', and,
// on Windows hosts, characters Windows forbids. Entries on disk with such
// names are not listed either, so a client never sees a name it cannot
// open.
func validName(name string) bool {
	if !vfs.ValidName(name) || len(name) > 255 {
		return false
	}
	if strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
		return false
	}
	for _, r := range name {
		if r < 0x20 {
			return false
		}
	}
	if runtime.GOOS == "windows" && strings.ContainsAny(name, `<>:"|?*`) {
		return false
	}
	return !isDeviceName(name)
}

// isDeviceName reports whether Windows would treat name as a device: the
// part before the first dot (trailing spaces ignored) is a reserved name.
func isDeviceName(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		return base[3] >= '0' && base[3] <= '9'
	}
	if strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT") {
		switch base[3:] {
		case "¹", "²", "³":
			return true
		}
	}
	return false
}
