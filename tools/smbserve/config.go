package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/smbvfs/smbvfs/protocol/dtyp"
	"github.com/smbvfs/smbvfs/server"
)

// Config is the configuration file of smbserve (YAML). Every key is documented in
// docs/OPERATIONS.md; command-line flags override the file's values (--share adds shares).
type Config struct {
	Listen      []string      `yaml:"listen"`       // addresses; default [":445"]
	Name        string        `yaml:"name"`         // server (NetBIOS) name; default SMBVFS
	Domain      string        `yaml:"domain"`       // NTLM domain; default the server name
	StateFile   string        `yaml:"state_file"`   // keeps the server GUID across restarts
	MinDialect  string        `yaml:"min_dialect"`  // default 2.0.2
	MaxDialect  string        `yaml:"max_dialect"`  // default 3.1.1
	Signing     string        `yaml:"signing"`      // enabled | required
	Encryption  string        `yaml:"encryption"`   // enabled | required | disabled
	Guest       bool          `yaml:"guest"`        // allow guest logons
	MapToGuest  bool          `yaml:"map_to_guest"` // unknown user names log on as guest
	Anonymous   *bool         `yaml:"anonymous"`    // allow null sessions; default: as guest
	UsersFile   string        `yaml:"users_file"`   // name:NT-hash file (smbserve user add)
	IdleTimeout time.Duration `yaml:"idle_timeout"` // close idle unauthenticated connections
	LogLevel    string        `yaml:"log_level"`    // debug | info | warn | error
	LogFormat   string        `yaml:"log_format"`   // text | json
	Metrics     string        `yaml:"metrics"`      // HTTP address of /metrics; empty: off
	Pprof       bool          `yaml:"pprof"`        // /debug/pprof/ on the metrics listener
	KeyLog      string        `yaml:"keylog"`       // debugging only: session keys to FILE
	Shares      []ShareConfig `yaml:"shares"`

	file  string
	lines map[string]int // key -> line, for messages
}

// ShareConfig is one share of the configuration.
type ShareConfig struct {
	Name     string   `yaml:"name"`
	Comment  string   `yaml:"comment"`
	Backend  string   `yaml:"backend"` // memfs | passthrough:DIR | hello[:DIR] | queryfs:SPEC | queryfs-demo[:DIR]
	ReadOnly bool     `yaml:"read_only"`
	Guest    *bool    `yaml:"guest"`   // guest and anonymous sessions may connect; default true
	Encrypt  bool     `yaml:"encrypt"` // require encryption (SMB 3.x clients only)
	Allow    []string `yaml:"allow"`   // only these users (empty: everyone)
	Deny     []string `yaml:"deny"`    // never these users

	line  int
	lines map[string]int
}

// configError is an error at a place of the configuration file.
func (c *Config) errorf(line int, format string, args ...any) error {
	if c.file == "" {
		return fmt.Errorf(format, args...)
	}
	if line <= 0 {
		return fmt.Errorf("%s: "+format, append([]any{c.file}, args...)...)
	}
	return fmt.Errorf("%s:%d: "+format, append([]any{c.file, line}, args...)...)
}

// LoadConfig reads and checks a configuration file: unknown keys, values of the wrong type and
// invalid settings are errors that name the file and line.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig parses a configuration; name is the file name used in messages.
func ParseConfig(name string, data []byte) (*Config, error) {
	c := &Config{file: name}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return c, c.validate() // an empty file
		}
		return nil, fmt.Errorf("%s: %v", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return c, c.validate()
	}
	lines, err := decodeStrict(c, root, reflect.ValueOf(c).Elem())
	if err != nil {
		return nil, err
	}
	c.lines = lines
	return c, c.validate()
}

// decodeStrict decodes a mapping node into the struct v, refusing unknown keys, and returns
// the line of each key. Slices of structs (shares) are decoded element by element.
func decodeStrict(c *Config, n *yaml.Node, v reflect.Value) (map[string]int, error) {
	if n.Kind != yaml.MappingNode {
		return nil, c.errorf(n.Line, "want a mapping of keys to values, found %s", nodeKind(n))
	}
	t := v.Type()
	fields := map[string]int{}
	var known []string
	for i := 0; i < t.NumField(); i++ {
		if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			fields[tag] = i
			known = append(known, tag)
		}
	}
	sort.Strings(known)
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[k.Value]
		if !ok {
			return nil, c.errorf(k.Line, "unknown key %q (known keys: %s)", k.Value, strings.Join(known, ", "))
		}
		if _, dup := lines[k.Value]; dup {
			return nil, c.errorf(k.Line, "key %q given twice", k.Value)
		}
		lines[k.Value] = k.Line
		f := v.Field(idx)
		if f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct {
			if val.Kind != yaml.SequenceNode {
				if val.Tag == "!!null" {
					continue
				}
				return nil, c.errorf(val.Line, "%s: want a list, found %s", k.Value, nodeKind(val))
			}
			for _, item := range val.Content {
				e := reflect.New(f.Type().Elem()).Elem()
				l, err := decodeStrict(c, item, e)
				if err != nil {
					return nil, err
				}
				if sc, ok := e.Addr().Interface().(*ShareConfig); ok {
					sc.line, sc.lines = item.Line, l
				}
				f.Set(reflect.Append(f, e))
			}
			continue
		}
		if f.Type() == reflect.TypeOf(time.Duration(0)) {
			d, err := time.ParseDuration(val.Value)
			if err != nil || val.Kind != yaml.ScalarNode {
				return nil, c.errorf(val.Line, "%s: bad duration %q (e.g. 90s, 2m)", k.Value, val.Value)
			}
			f.SetInt(int64(d))
			continue
		}
		if err := val.Decode(f.Addr().Interface()); err != nil {
			return nil, c.errorf(val.Line, "%s: bad value %q: want %s", k.Value, val.Value, typeName(f.Type()))
		}
	}
	return lines, nil
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Pointer:
		return typeName(t.Elem())
	case reflect.Slice:
		return "a list of " + typeName(t.Elem()) + "s"
	case reflect.String:
		return "a string"
	}
	return t.String()
}

func (c *Config) line(key string) int { return c.lines[key] }

func (s *ShareConfig) at(key string) int {
	if l, ok := s.lines[key]; ok {
		return l
	}
	return s.line
}

// validate checks the values (not the backends: see check).
func (c *Config) validate() error {
	if _, err := server.ParsePolicy(c.Signing); err != nil {
		return c.errorf(c.line("signing"), "signing: %v", err)
	}
	if p, _ := server.ParsePolicy(c.Signing); p == server.Disabled {
		return c.errorf(c.line("signing"), "signing: SMB2 signing can not be disabled (enabled or required)")
	}
	if _, err := server.ParsePolicy(c.Encryption); err != nil {
		return c.errorf(c.line("encryption"), "encryption: %v", err)
	}
	if c.MinDialect != "" {
		if _, err := parseDialect(c.MinDialect); err != nil {
			return c.errorf(c.line("min_dialect"), "min_dialect: %v", err)
		}
	}
	if c.MaxDialect != "" {
		if _, err := parseDialect(c.MaxDialect); err != nil {
			return c.errorf(c.line("max_dialect"), "max_dialect: %v", err)
		}
	}
	if c.LogLevel != "" {
		if _, err := parseLevel(c.LogLevel); err != nil {
			return c.errorf(c.line("log_level"), "log_level: %v", err)
		}
	}
	switch c.LogFormat {
	case "", "text", "json":
	default:
		return c.errorf(c.line("log_format"), "log_format: %q is not text or json", c.LogFormat)
	}
	if c.IdleTimeout < 0 {
		return c.errorf(c.line("idle_timeout"), "idle_timeout: negative")
	}
	for _, a := range c.Listen {
		if _, _, err := splitHostPort(a); err != nil {
			return c.errorf(c.line("listen"), "listen: %q: %v", a, err)
		}
	}
	if c.Metrics != "" {
		if _, _, err := splitHostPort(c.Metrics); err != nil {
			return c.errorf(c.line("metrics"), "metrics: %q: %v", c.Metrics, err)
		}
	}
	seen := map[string]int{}
	for i := range c.Shares {
		s := &c.Shares[i]
		if s.Name == "" {
			return c.errorf(s.line, "share without a name")
		}
		if strings.ContainsAny(s.Name, `\/:*?"<>|`) || strings.EqualFold(s.Name, "IPC$") {
			return c.errorf(s.at("name"), "share name %q is not allowed", s.Name)
		}
		if l, dup := seen[strings.ToUpper(s.Name)]; dup {
			return c.errorf(s.at("name"), "share %q is already defined at line %d", s.Name, l)
		}
		seen[strings.ToUpper(s.Name)] = s.at("name")
		if err := checkBackendSpec(s.Backend); err != nil {
			return c.errorf(s.at("backend"), "share %s: backend: %v", s.Name, err)
		}
		for _, u := range append(append([]string{}, s.Allow...), s.Deny...) {
			if u == "" || strings.ContainsAny(u, ":\r\n") {
				return c.errorf(s.at("allow"), "share %s: bad user name %q", s.Name, u)
			}
		}
	}
	return nil
}

// checkBackendSpec checks the syntax of a backend spec.
func checkBackendSpec(spec string) error {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "memfs", "hello", "queryfs-demo":
		if kind == "memfs" && arg != "" {
			return fmt.Errorf("memfs takes no argument")
		}
		return nil
	case "passthrough":
		if arg == "" {
			return fmt.Errorf("passthrough needs a directory (passthrough:/srv/data)")
		}
		return nil
	case "queryfs":
		if arg == "" {
			return fmt.Errorf("queryfs needs a store (queryfs:sqlite:FILE or queryfs:couchdb:URL)")
		}
		return nil
	case "":
		return fmt.Errorf("missing (memfs, passthrough:DIR, hello, queryfs:SPEC, queryfs-demo)")
	}
	return fmt.Errorf("unknown backend %q (memfs, passthrough:DIR, hello, queryfs:SPEC, queryfs-demo)", kind)
}

// check verifies what exists outside the file: the users file (present, private) and the
// directories of passthrough shares (readable).
func (c *Config) check() error {
	if c.UsersFile != "" {
		if _, err := server.LoadUsers(c.UsersFile); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return c.errorf(c.line("users_file"), "users_file: %s does not exist (create it with: smbserve user add --file %s NAME)", c.UsersFile, c.UsersFile)
			}
			return c.errorf(c.line("users_file"), "users_file: %v", err)
		}
	}
	for _, s := range c.Shares {
		kind, arg, _ := strings.Cut(s.Backend, ":")
		if kind == "passthrough" || (kind == "hello" && arg != "") {
			if err := readableDir(arg); err != nil {
				return c.errorf(s.at("backend"), "share %s: %v", s.Name, err)
			}
		}
	}
	if c.StateFile != "" {
		if _, err := os.Stat(filepath.Dir(c.StateFile)); err != nil {
			return c.errorf(c.line("state_file"), "state_file: %v", err)
		}
	}
	if len(c.Shares) == 0 {
		return c.errorf(0, "no share: give at least one --share NAME=memfs|passthrough:DIR|hello or a shares: list")
	}
	if c.UsersFile == "" && !c.Guest {
		return c.errorf(0, "nobody can log on: set users_file (--users FILE) or guest: true (--guest)")
	}
	return nil
}

func readableDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.ReadDir(1); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s is not readable: %v", dir, err)
	}
	return nil
}

// Effective returns the configuration with defaults filled in, as YAML (check-config).
func (c *Config) Effective() []byte {
	e := *c
	e.fillDefaults()
	type share struct {
		Name     string   `yaml:"name"`
		Comment  string   `yaml:"comment,omitempty"`
		Backend  string   `yaml:"backend"`
		ReadOnly bool     `yaml:"read_only"`
		Guest    bool     `yaml:"guest"`
		Encrypt  bool     `yaml:"encrypt"`
		Allow    []string `yaml:"allow,omitempty"`
		Deny     []string `yaml:"deny,omitempty"`
	}
	out := struct {
		Listen      []string `yaml:"listen"`
		Name        string   `yaml:"name"`
		Domain      string   `yaml:"domain"`
		StateFile   string   `yaml:"state_file"`
		MinDialect  string   `yaml:"min_dialect"`
		MaxDialect  string   `yaml:"max_dialect"`
		Signing     string   `yaml:"signing"`
		Encryption  string   `yaml:"encryption"`
		Guest       bool     `yaml:"guest"`
		MapToGuest  bool     `yaml:"map_to_guest"`
		Anonymous   bool     `yaml:"anonymous"`
		UsersFile   string   `yaml:"users_file"`
		IdleTimeout string   `yaml:"idle_timeout"`
		LogLevel    string   `yaml:"log_level"`
		LogFormat   string   `yaml:"log_format"`
		Metrics     string   `yaml:"metrics"`
		Pprof       bool     `yaml:"pprof"`
		KeyLog      string   `yaml:"keylog"`
		Shares      []share  `yaml:"shares"`
	}{e.Listen, e.Name, e.Domain, e.StateFile, e.MinDialect, e.MaxDialect, e.Signing, e.Encryption,
		e.Guest, e.MapToGuest, *e.Anonymous, e.UsersFile, e.IdleTimeout.String(), e.LogLevel, e.LogFormat,
		e.Metrics, e.Pprof, e.KeyLog, nil}
	for _, s := range e.Shares {
		out.Shares = append(out.Shares, share{s.Name, s.Comment, s.Backend, s.ReadOnly, s.Guest == nil || *s.Guest, s.Encrypt, s.Allow, s.Deny})
	}
	b, _ := yaml.Marshal(out)
	return b
}

func (c *Config) fillDefaults() {
	if len(c.Listen) == 0 {
		c.Listen = []string{":445"}
	}
	if c.Name == "" {
		c.Name = "SMBVFS"
	}
	if c.Domain == "" {
		c.Domain = strings.ToUpper(c.Name)
	}
	if c.MinDialect == "" {
		c.MinDialect = "2.0.2"
	}
	if c.MaxDialect == "" {
		c.MaxDialect = "3.1.1"
	}
	if c.Signing == "" {
		c.Signing = "enabled"
	}
	if c.Encryption == "" {
		c.Encryption = "enabled"
	}
	if c.Anonymous == nil {
		a := c.Guest
		c.Anonymous = &a
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}
}

// serverGUID reads the server GUID from the state file, creating the file with a new GUID
// when it does not exist.
func serverGUID(path string) (dtyp.GUID, error) {
	var g dtyp.GUID
	data, err := os.ReadFile(path)
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "server_guid:"); ok {
				b, err := hex.DecodeString(strings.TrimSpace(v))
				if err != nil || len(b) != 16 {
					return g, fmt.Errorf("%s: bad server_guid", path)
				}
				copy(g[:], b)
				return g, nil
			}
		}
		return g, fmt.Errorf("%s: no server_guid line", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return g, err
	}
	rand.Read(g[:])
	content := fmt.Sprintf("# smbserve state: keep it so that clients see the same server after a restart\nserver_guid: %s\n", hex.EncodeToString(g[:]))
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return g, fmt.Errorf("state_file: %v", err)
	}
	return g, nil
}

func splitHostPort(a string) (string, string, error) {
	h, p, err := net.SplitHostPort(a)
	if err != nil {
		return "", "", err
	}
	if p == "" {
		return "", "", fmt.Errorf("no port")
	}
	return h, p, nil
}
