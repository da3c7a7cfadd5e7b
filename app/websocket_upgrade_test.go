package app_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"storefront/testsupport"
)

// TestWebsocketFramesSentWithTheUpgrade: a client may send its first frames in the same packet as
// the upgrade request. net/http has then read them ahead into its buffer, and the websocket must
// read them first when it takes the connection from net/http.
func TestWebsocketFramesSentWithTheUpgrade(t *testing.T) {
	t.Parallel()
	srv := testsupport.StartServer(t, testsupport.Config(t))
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))

	upgrade := "GET /graphql HTTP/1.1\r\nHost: " + strings.TrimPrefix(srv.URL, "http://") + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
	var packet bytes.Buffer
	packet.WriteString(upgrade)
	packet.Write(clientTextFrame(`{"type":"connection_init","payload":{}}`))
	packet.Write(clientTextFrame(`{"type":"ping"}`))
	if _, err := conn.Write(packet.Bytes()); err != nil {
		t.Fatal(err)
	}

	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "graphql-transport-ws" {
		t.Fatalf("upgrade answered %d, protocol %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	for _, want := range []string{`{"type":"connection_ack"}`, `{"type":"pong"}`} {
		if got := readServerFrame(t, br); got != want {
			t.Fatalf("frame %q; want %q", got, want)
		}
	}
}

// clientTextFrame is one masked text frame, as clients must send them.
func clientTextFrame(payload string) []byte {
	mask := [4]byte{1, 2, 3, 4}
	f := []byte{0x81, 0x80 | byte(len(payload))}
	f = append(f, mask[:]...)
	for i := range len(payload) {
		f = append(f, payload[i]^mask[i%4])
	}
	return f
}

// readServerFrame reads one unmasked, unfragmented text frame.
func readServerFrame(t *testing.T, r io.Reader) string {
	t.Helper()
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		t.Fatalf("read frame: %v", err)
	}
	n := int(head[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			t.Fatal(err)
		}
		n = int(binary.BigEndian.Uint16(ext[:]))
	case 127:
		t.Fatal("frame too long for this test")
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatal(err)
	}
	return string(payload)
}
