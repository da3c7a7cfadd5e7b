package graphqlws

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
)

// Subprotocols spoken, in order of preference.
const (
	// ProtocolTransportWS is graphql-transport-ws, spoken by the graphql-ws npm client.
	ProtocolTransportWS = "graphql-transport-ws"
	// ProtocolLegacyWS is the subscriptions-transport-ws protocol, which names itself graphql-ws.
	ProtocolLegacyWS = "graphql-ws"
)

// acceptGUID is the constant of RFC 6455's handshake.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// handshakeError is a refused upgrade: answered with status and message over plain HTTP.
type handshakeError struct {
	status  int
	message string
}

func (e *handshakeError) Error() string { return e.message }

// upgrade checks the opening handshake, takes the connection from net/http and answers 101. It
// returns the connection, the reader to read frames from (the bytes net/http read ahead first)
// and the negotiated subprotocol. Headers already set on w (request id, security headers) go
// out with the 101.
func upgrade(w http.ResponseWriter, r *http.Request) (net.Conn, io.Reader, string, error) {
	if r.Method != http.MethodGet {
		return nil, nil, "", &handshakeError{http.StatusMethodNotAllowed, "websocket upgrades use GET"}
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return nil, nil, "", &handshakeError{http.StatusBadRequest, "not a websocket upgrade"}
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return nil, nil, "", &handshakeError{http.StatusUpgradeRequired, "websocket version 13 only"}
	}
	key := strings.TrimSpace(r.Header.Get("Sec-WebSocket-Key"))
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
		return nil, nil, "", &handshakeError{http.StatusBadRequest, "bad Sec-WebSocket-Key"}
	}
	protocol, ok := chooseProtocol(r.Header)
	if !ok {
		return nil, nil, "", &handshakeError{http.StatusBadRequest,
			"no supported subprotocol: use " + ProtocolTransportWS + " or " + ProtocolLegacyWS}
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, "", errors.New("the connection cannot be hijacked")
	}
	header := w.Header().Clone()
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, "", err
	}

	sum := sha1.Sum([]byte(key + acceptGUID))
	var resp bytes.Buffer
	resp.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	resp.WriteString(base64.StdEncoding.EncodeToString(sum[:]))
	resp.WriteString("\r\n")
	if protocol != "" && headerHasToken(r.Header, "Sec-WebSocket-Protocol", protocol) {
		resp.WriteString("Sec-WebSocket-Protocol: " + protocol + "\r\n")
	}
	header.Del("Content-Type")
	header.Del("Content-Length")
	_ = header.Write(&resp)
	resp.WriteString("\r\n")
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	if _, err := conn.Write(resp.Bytes()); err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	// net/http's buffers go back with the hijack unless the client already sent frames with the
	// upgrade request: those are read first.
	var rd io.Reader = conn
	if n := brw.Reader.Buffered(); n > 0 {
		ahead, _ := brw.Reader.Peek(n)
		rd = io.MultiReader(bytes.NewReader(bytes.Clone(ahead)), conn)
	}
	return conn, rd, protocol, nil
}

// chooseProtocol picks the subprotocol: graphql-transport-ws when offered, else graphql-ws. A
// client that offers none gets graphql-ws, as older clients of the legacy protocol send none.
func chooseProtocol(h http.Header) (string, bool) {
	offered := h.Values("Sec-WebSocket-Protocol")
	if len(offered) == 0 {
		return ProtocolLegacyWS, true
	}
	for _, p := range []string{ProtocolTransportWS, ProtocolLegacyWS} {
		if headerHasToken(h, "Sec-WebSocket-Protocol", p) {
			return p, true
		}
	}
	return "", false
}

// headerHasToken reports whether the comma-separated header name lists token (case-insensitive).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
