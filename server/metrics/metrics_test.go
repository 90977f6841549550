package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smbvfs/smbvfs/protocol/ntstatus"
	"github.com/smbvfs/smbvfs/protocol/smb2"
	"github.com/smbvfs/smbvfs/server"
)

func TestExposition(t *testing.T) {
	m := New()
	var st server.Stats
	st.Connections.Add(3)
	st.BytesRead.Add(42)
	m.Attach(&st)
	m.Observe(smb2.CommandRead, ntstatus.StatusSuccess, 300*time.Microsecond)
	m.Observe(smb2.CommandRead, ntstatus.StatusSuccess, 2*time.Second)
	m.Observe(smb2.CommandCreate, ntstatus.StatusObjectNameNotFound, time.Millisecond)
	rec := httptest.NewRecorder()
	Handler(m, false).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		"smbvfs_connections_total 3\n",
		"smbvfs_read_bytes_total 42\n",
		`smbvfs_requests_total{command="read",status="STATUS_SUCCESS"} 2` + "\n",
		`smbvfs_requests_total{command="create",status="STATUS_OBJECT_NAME_NOT_FOUND"} 1` + "\n",
		`smbvfs_request_duration_seconds_bucket{command="read",le="0.0005"} 1` + "\n",
		`smbvfs_request_duration_seconds_bucket{command="read",le="2.5"} 2` + "\n",
		`smbvfs_request_duration_seconds_bucket{command="read",le="+Inf"} 2` + "\n",
		`smbvfs_request_duration_seconds_count{command="read"} 2` + "\n",
		"# TYPE smbvfs_request_duration_seconds histogram\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	rec = httptest.NewRecorder()
	Handler(m, false).ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/", nil))
	if rec.Code != 404 {
		t.Errorf("pprof without the flag: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	Handler(m, true).ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/", nil))
	if rec.Code != 200 {
		t.Errorf("pprof: %d", rec.Code)
	}
}
