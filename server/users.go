package server

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/smbvfs/smbvfs/protocol/ntlm"
)

// Users is a UserStore of NT hashes by user name (names compare without regard to case).
// It is safe for concurrent use. The file format is one "name:nthash-in-hex" per line;
// lines starting with # are comments.
type Users struct {
	mu    sync.RWMutex
	users map[string]userEntry // by lower-case name
}

type userEntry struct {
	name string
	hash [16]byte
}

// NewUsers returns an empty store.
func NewUsers() *Users { return &Users{users: make(map[string]userEntry)} }

// NTHash implements UserStore.
func (u *Users) NTHash(user, _ string) ([16]byte, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	e, ok := u.users[strings.ToLower(user)]
	return e.hash, ok
}

// SetPassword stores the NT hash of password for name (the password is not kept).
func (u *Users) SetPassword(name, password string) error {
	return u.SetHash(name, ntlm.NTHash(password))
}

// SetHash stores an NT hash for name.
func (u *Users) SetHash(name string, h [16]byte) error {
	if err := validUserName(name); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.users[strings.ToLower(name)] = userEntry{name: name, hash: h}
	return nil
}

// Delete removes name and reports whether it existed.
func (u *Users) Delete(name string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, ok := u.users[strings.ToLower(name)]
	delete(u.users, strings.ToLower(name))
	return ok
}

// Replace makes u hold exactly the users of other (a reload of the users file); sessions
// already established are not affected.
func (u *Users) Replace(other *Users) {
	other.mu.RLock()
	m := make(map[string]userEntry, len(other.users))
	for k, e := range other.users {
		m[k] = e
	}
	other.mu.RUnlock()
	u.mu.Lock()
	u.users = m
	u.mu.Unlock()
}

// Names returns the user names, sorted.
func (u *Users) Names() []string {
	u.mu.RLock()
	defer u.mu.RUnlock()
	names := make([]string, 0, len(u.users))
	for _, e := range u.users {
		names = append(names, e.name)
	}
	sort.Strings(names)
	return names
}

func validUserName(name string) error {
	if name == "" || len(name) > 256 || strings.ContainsAny(name, ":\r\n\x00") {
		return fmt.Errorf("invalid user name %q", name)
	}
	return nil
}

// ErrInsecureUsersFile is returned for a users file others can read or write.
var ErrInsecureUsersFile = errors.New("users file is readable or writable by others (chmod 600 it)")

// LoadUsers reads a users file. It refuses a file that group or others may read or write.
// A missing file gives an empty store and an error wrapping fs.ErrNotExist.
func LoadUsers(path string) (*Users, error) {
	u := NewUsers()
	fi, err := os.Stat(path)
	if err != nil {
		return u, err
	}
	if fi.Mode().Perm()&0o066 != 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrInsecureUsersFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		i := strings.LastIndexByte(t, ':')
		if i <= 0 {
			return nil, fmt.Errorf("%s:%d: want name:nthash", path, line)
		}
		hb, err := hex.DecodeString(t[i+1:])
		if err != nil || len(hb) != 16 {
			return nil, fmt.Errorf("%s:%d: bad NT hash", path, line)
		}
		if err := u.SetHash(t[:i], [16]byte(hb)); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, line, err)
		}
	}
	return u, nil
}

// Save writes the store to path with mode 0600 (atomically, through a temporary file).
func (u *Users) Save(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o066 != 0 {
		return fmt.Errorf("%s: %w", path, ErrInsecureUsersFile)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var b bytes.Buffer
	b.WriteString("# smbvfs users: name:NT-hash (MD4 of the UTF-16LE password)\n")
	u.mu.RLock()
	names := make([]string, 0, len(u.users))
	for k := range u.users {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		e := u.users[k]
		fmt.Fprintf(&b, "%s:%s\n", e.name, hex.EncodeToString(e.hash[:]))
	}
	u.mu.RUnlock()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".users-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
