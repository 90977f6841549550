// Package metrics exports the counters of a server.Server in the Prometheus text exposition
// format (version 0.0.4), without a client library: the server package exposes Stats and an
// OnRequest hook, and this package turns them into metrics.
//
//	m := metrics.New()
//	srv, _ := server.New(server.Options{..., OnRequest: m.Observe})
//	m.Attach(srv.Stats())
//	http.Handle("/metrics", m)
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server"
)

// Buckets are the upper bounds (seconds) of the request latency histograms.
var Buckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type reqKey struct {
	cmd    smb2.Command
	status ntstatus.Status
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; one extra for +Inf
	sum    float64
	count  uint64
}

// Metrics collects per-request metrics through Observe and reads the server's Stats when
// scraped. It is safe for concurrent use.
type Metrics struct {
	stats atomic.Pointer[server.Stats]

	mu   sync.Mutex
	reqs map[reqKey]uint64
	hist map[smb2.Command]*histogram
}

// New returns an empty collector.
func New() *Metrics {
	return &Metrics{reqs: make(map[reqKey]uint64), hist: make(map[smb2.Command]*histogram)}
}

// Attach sets the server counters to export (srv.Stats()).
func (m *Metrics) Attach(st *server.Stats) { m.stats.Store(st) }

// Observe accounts one request; it has the signature of server.Options.OnRequest.
func (m *Metrics) Observe(cmd smb2.Command, status ntstatus.Status, elapsed time.Duration) {
	s := elapsed.Seconds()
	i := sort.SearchFloat64s(Buckets, s) // first bucket with bound >= s
	m.mu.Lock()
	m.reqs[reqKey{cmd, status}]++
	h := m.hist[cmd]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(Buckets)+1)}
		m.hist[cmd] = h
	}
	h.counts[i]++
	h.sum += s
	h.count++
	m.mu.Unlock()
}

func commandName(c smb2.Command) string {
	return strings.ToLower(strings.TrimPrefix(c.String(), "SMB2_"))
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// WriteTo writes every metric in the text exposition format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	metric := func(name, typ, help string, v int64) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n%s %d\n", name, help, name, typ, name, v)
	}
	if st := m.stats.Load(); st != nil {
		metric("smbvfs_connections_total", "counter", "Connections accepted.", st.Connections.Load())
		metric("smbvfs_connections", "gauge", "Connections open now.", st.ActiveConnections.Load())
		metric("smbvfs_sessions_total", "counter", "Sessions established.", st.Sessions.Load())
		metric("smbvfs_sessions", "gauge", "Sessions established and not yet closed.", st.ActiveSessions.Load())
		metric("smbvfs_open_files", "gauge", "Opens (files, directories, pipes) held by clients.", st.OpenFiles.Load())
		metric("smbvfs_frames_total", "counter", "SMB messages received (a compound counts once).", st.Requests.Load())
		metric("smbvfs_read_bytes_total", "counter", "Bytes returned by READ.", st.BytesRead.Load())
		metric("smbvfs_written_bytes_total", "counter", "Bytes accepted by WRITE.", st.BytesWritten.Load())
		metric("smbvfs_signing_failures_total", "counter", "Requests refused for a bad signature.", st.SigningFailures.Load())
		metric("smbvfs_decryption_failures_total", "counter", "Encrypted messages that failed to decrypt.", st.DecryptFailures.Load())
		metric("smbvfs_backend_errors_total", "counter", "Requests failed by the filesystem behind a share (I/O or internal errors).", st.BackendErrors.Load())
	}

	m.mu.Lock()
	keys := make([]reqKey, 0, len(m.reqs))
	for k := range m.reqs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].cmd != keys[j].cmd {
			return keys[i].cmd < keys[j].cmd
		}
		return keys[i].status < keys[j].status
	})
	fmt.Fprintf(bw, "# HELP smbvfs_requests_total Requests answered, by command and status.\n# TYPE smbvfs_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(bw, "smbvfs_requests_total{command=%q,status=%q} %d\n", commandName(k.cmd), k.status.String(), m.reqs[k])
	}
	cmds := make([]smb2.Command, 0, len(m.hist))
	for c := range m.hist {
		cmds = append(cmds, c)
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i] < cmds[j] })
	fmt.Fprintf(bw, "# HELP smbvfs_request_duration_seconds Time the server spent on a request, by command.\n# TYPE smbvfs_request_duration_seconds histogram\n")
	for _, c := range cmds {
		h := m.hist[c]
		name := commandName(c)
		var cum uint64
		for i, b := range Buckets {
			cum += h.counts[i]
			fmt.Fprintf(bw, "smbvfs_request_duration_seconds_bucket{command=%q,le=%q} %d\n", name, fmtFloat(b), cum)
		}
		fmt.Fprintf(bw, "smbvfs_request_duration_seconds_bucket{command=%q,le=\"+Inf\"} %d\n", name, h.count)
		fmt.Fprintf(bw, "smbvfs_request_duration_seconds_sum{command=%q} %s\n", name, fmtFloat(h.sum))
		fmt.Fprintf(bw, "smbvfs_request_duration_seconds_count{command=%q} %d\n", name, h.count)
	}
	m.mu.Unlock()
	n := bw.Buffered()
	return int64(n), bw.Flush()
}

// ServeHTTP answers a scrape.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	m.WriteTo(w)
}

// Handler serves /metrics and, when withPprof is set, the runtime profiles under
// /debug/pprof/.
func Handler(m *Metrics, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m)
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "smbvfs: metrics at /metrics")
	})
	return mux
}
