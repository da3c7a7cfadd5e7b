package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"storefront/testsupport"
)

// TestMain lets a test run this binary's real main() in a child process, so shutdown is tested
// with a real SIGTERM delivered to a real process.
func TestMain(m *testing.M) {
	if os.Getenv("STOREFRONT_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestSIGTERMDrainsRequestsAndClosesSubscriptions starts the server as a child process, opens a
// subscription and a request whose body is still arriving, sends SIGTERM, and checks that the
// request is answered, the subscriber gets a close frame, and the process exits cleanly in time.
func TestSIGTERMDrainsRequestsAndClosesSubscriptions(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(),
		"STOREFRONT_TEST_RUN_MAIN=1",
		"DATABASE_URL="+testsupport.NewDatabase(t),
		"REDIS_URL="+testsupport.RedisURL(t),
		"REDIS_PREFIX="+testsupport.NewRedisPrefix(t),
		fmt.Sprintf("PORT=%d", port),
		"RATE_LIMIT=off",
		"SHUTDOWN_DRAIN_DELAY=200ms",
	)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	base := "http://" + addr
	ready := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !ready; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			ready = resp.StatusCode == http.StatusOK
			resp.Body.Close()
		}
	}
	if !ready {
		t.Fatal("server never became ready")
	}

	client := &testsupport.Client{URL: base + "/graphql"}
	var created struct {
		CartCreate struct{ Cart struct{ ID string } }
	}
	client.Do(t, `mutation { cartCreate { cart { id } } }`, nil).Decode(t, &created)

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/graphql", &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   http.Header{"Origin": []string{"http://localhost:3000"}},
	})
	if err != nil {
		t.Fatalf("dial websocket: %v", err)
	}
	defer ws.CloseNow()
	send := func(v any) {
		b, _ := json.Marshal(v)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatalf("websocket write: %v", err)
		}
	}
	send(map[string]any{"type": "connection_init", "payload": map[string]any{}})
	if _, msg, err := ws.Read(ctx); err != nil || !strings.Contains(string(msg), "connection_ack") {
		t.Fatalf("connection_init answered %s, %v", msg, err)
	}
	send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
		"query":     `subscription($id: ID!) { cartUpdated(cartId: $id) { id } }`,
		"variables": map[string]any{"id": created.CartCreate.Cart.ID},
	}})

	// A slow client: headers and part of the body before the signal, the rest after it.
	body := `{"query":"query Slow { __typename }"}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		addr, len(body), body[:10])
	time.Sleep(100 * time.Millisecond)

	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}

	for err == nil { // updates sent before the close frame are fine
		_, _, err = ws.Read(ctx)
	}
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("subscriber got %v; want close 1001 going away", err)
	}

	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatalf("finish the slow body: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request got no answer: %v", err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), `"__typename":"Query"`) {
		t.Errorf("in-flight request answered %d %s", resp.StatusCode, answer)
	}

	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("server exited with %v; want a clean exit", err)
		}
		if took := time.Since(signalled); took > 25*time.Second {
			t.Errorf("stop took %s; want at most 25s", took)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server still running 30s after SIGTERM")
	}
}
