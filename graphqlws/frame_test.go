package graphqlws

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
)

// clientFrame builds a masked client frame.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var b []byte
	switch n := len(payload); {
	case n < 126:
		b = []byte{b0, 0x80 | byte(n)}
	case n <= 0xFFFF:
		b = []byte{b0, 0x80 | 126, 0, 0}
		binary.BigEndian.PutUint16(b[2:], uint16(n))
	default:
		b = make([]byte, 10)
		b[0], b[1] = b0, 0x80|127
		binary.BigEndian.PutUint64(b[2:], uint64(n))
	}
	mask := [4]byte{0x11, 0x22, 0x33, 0x44}
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i&3])
	}
	return b
}

func TestReadMessageJoinsFragmentsAndPassesControlFrames(t *testing.T) {
	var in bytes.Buffer
	in.Write(clientFrame(false, opText, []byte(`{"type":`)))
	in.Write(clientFrame(true, opPing, []byte("hi")))
	in.Write(clientFrame(false, opContinuation, []byte(`"ping"`)))
	in.Write(clientFrame(true, opContinuation, []byte(`}`)))
	long := strings.Repeat("x", 70000) // a 64-bit length
	in.Write(clientFrame(true, opText, []byte(long)))
	fr := frameReader{r: &in, limit: 1 << 20}
	var pings []string
	onControl := func(op byte, p []byte) {
		if op == opPing {
			pings = append(pings, string(p))
		}
	}
	msg, _, err := fr.readMessage(onControl)
	if err != nil || string(msg) != `{"type":"ping"}` {
		t.Fatalf("message %q, %v", msg, err)
	}
	if len(pings) != 1 || pings[0] != "hi" {
		t.Fatalf("pings passed on: %q", pings)
	}
	if msg, _, err = fr.readMessage(onControl); err != nil || string(msg) != long {
		t.Fatalf("long message: %d bytes, %v", len(msg), err)
	}
	if _, _, err = fr.readMessage(onControl); !errors.Is(err, io.EOF) {
		t.Fatalf("at the end: %v; want EOF", err)
	}
}

func TestReadMessageRefusesBrokenFrames(t *testing.T) {
	unmasked := clientFrame(true, opText, []byte("{}"))
	unmasked[1] &^= 0x80
	cases := []struct {
		name  string
		input []byte
		code  int
	}{
		{"unmasked", unmasked[:2], CloseProtocolError},
		{"over the limit", clientFrame(true, opText, bytes.Repeat([]byte("a"), 200)), CloseMessageTooBig},
		{"fragments over the limit", append(clientFrame(false, opText, bytes.Repeat([]byte("a"), 60)),
			clientFrame(true, opContinuation, bytes.Repeat([]byte("a"), 60))...), CloseMessageTooBig},
		{"binary", clientFrame(true, opBinary, []byte("{}")), CloseInvalidPayload},
		{"not UTF-8", clientFrame(true, opText, []byte{0xff, 0xfe}), CloseInvalidPayload},
		{"fragmented ping", clientFrame(false, opPing, nil), CloseProtocolError},
		{"continuation first", clientFrame(true, opContinuation, []byte("a")), CloseProtocolError},
		{"reserved bits", append([]byte{0xC1}, clientFrame(true, opText, nil)[1:]...), CloseProtocolError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fr := frameReader{r: bytes.NewReader(tc.input), limit: 100}
			_, _, err := fr.readMessage(func(byte, []byte) {})
			var ce *closeError
			if !errors.As(err, &ce) || ce.code != tc.code {
				t.Fatalf("err = %v; want close code %d", err, tc.code)
			}
		})
	}
}

func TestReadMessageReportsTheClientsClose(t *testing.T) {
	fr := frameReader{r: bytes.NewReader(clientFrame(true, opClose, []byte{0x03, 0xE9}))}
	_, code, err := fr.readMessage(func(byte, []byte) {})
	if !errors.Is(err, errPeerClosed) || code != CloseGoingAway {
		t.Fatalf("code %d, err %v; want 1001 and errPeerClosed", code, err)
	}
}

func TestServerFrameLengths(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		f := serverFrame(opText, bytes.Repeat([]byte("a"), n))
		if f[0] != 0x81 {
			t.Fatalf("%d bytes: first byte %#x", n, f[0])
		}
		var length, header int
		switch f[1] {
		case 126:
			length, header = int(binary.BigEndian.Uint16(f[2:])), 4
		case 127:
			length, header = int(binary.BigEndian.Uint64(f[2:])), 10
		default:
			length, header = int(f[1]), 2
		}
		if length != n || len(f) != header+n {
			t.Fatalf("%d bytes: header says %d, frame is %d bytes", n, length, len(f))
		}
	}
}

func TestMessageEncoding(t *testing.T) {
	for _, tc := range []struct {
		typ, id string
		payload []byte
		want    string
	}{
		{"connection_ack", "", nil, `{"type":"connection_ack"}`},
		{"next", `a"b`, []byte(`{"data":1}`), `{"type":"next","id":"a\"b","payload":{"data":1}}`},
		{"complete", "7", nil, `{"type":"complete","id":"7"}`},
	} {
		if got := string(message(tc.typ, tc.id, tc.payload)); got != tc.want {
			t.Errorf("message = %s; want %s", got, tc.want)
		}
	}
}

// FuzzReadMessage: whatever a client sends, the reader returns a message, a close, or an error,
// never panics, and never returns a message over the limit.
func FuzzReadMessage(f *testing.F) {
	f.Add(clientFrame(true, opText, []byte(`{"type":"connection_init"}`)))
	f.Add(append(clientFrame(false, opText, []byte(`{"a":`)), clientFrame(true, opContinuation, []byte(`1}`))...))
	f.Add(clientFrame(true, opClose, []byte{0x03, 0xE8}))
	f.Add(clientFrame(true, opPing, []byte("x")))
	f.Add([]byte{0x81, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, input []byte) {
		fr := frameReader{r: bytes.NewReader(input), limit: 1024}
		for range 8 {
			msg, _, err := fr.readMessage(func(op byte, p []byte) {
				if len(p) > 125 {
					t.Fatalf("control frame of %d bytes passed on", len(p))
				}
			})
			if err != nil {
				return
			}
			if len(msg) > 1024 {
				t.Fatalf("message of %d bytes over a 1024-byte limit", len(msg))
			}
		}
	})
}
