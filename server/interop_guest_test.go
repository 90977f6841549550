package server_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/smbvfs/smbvfs/server"
	"github.com/smbvfs/smbvfs/server/servertest"
)

// smbclient -N and rpcclient -N send the local user name with no password at all (an empty
// NT response): with guests allowed that is a guest session, as with Samba's "map to guest =
// bad user". rpcclient requires signed IPC$ by default and a guest session can not sign
// (Samba's own server fails the same way), hence 'client ipc signing=off'.
func TestInteropNoPassword(t *testing.T) {
	smbclient := servertest.NeedClient(t, "smbclient", "smbclient")
	rpcclient := servertest.NeedClient(t, "rpcclient", "samba-common-bin")
	for _, mapUnknown := range []bool{false, true} {
		host, port := interopServer(t, func(o *server.Options) { o.MapUnknownToGuest = mapUnknown })
		p := strconv.Itoa(port)
		out, err := runClient(t, smbclient, "//"+host+"/test", "-p", p, "-N", "-U", "someone", "-c", "mkdir d; ls")
		if err != nil || !strings.Contains(out, "d  ") {
			t.Errorf("smbclient -N (map %v): %v\n%s", mapUnknown, err, out)
		}
		out, err = runClient(t, rpcclient, "-p", p, "-N", "-U", "someone", "--option=client ipc signing=off", host, "-c", "srvinfo")
		if err != nil || !strings.Contains(out, "platform_id") {
			t.Errorf("rpcclient -N (map %v): %v\n%s", mapUnknown, err, out)
		}
		// A known user with no password is refused.
		out, err = runClient(t, smbclient, "//"+host+"/test", "-p", p, "-N", "-U", "alice", "-c", "ls")
		if err == nil || !strings.Contains(out, "NT_STATUS_LOGON_FAILURE") {
			t.Errorf("smbclient -N -U alice: %v\n%s", err, out)
		}
	}
}
