package graphqlws

import (
	"encoding/binary"
	"errors"
	"io"
	"unicode/utf8"
)

// Websocket opcodes (RFC 6455, section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Close codes (RFC 6455, section 7.4.1) this server sends.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001
	CloseProtocolError   = 1002
	CloseInvalidPayload  = 1007
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009
)

// closeError is a reason to end the connection with a close code.
type closeError struct {
	code   int
	reason string
}

func (e *closeError) Error() string { return e.reason }

func protocolError(reason string) error { return &closeError{CloseProtocolError, reason} }

// errPeerClosed is returned by readMessage when the client sent its close frame.
var errPeerClosed = errors.New("the client closed the websocket")

// frameReader reads client frames from a connection with no buffer of its own: an idle
// connection then holds no read buffer, at the price of a few small reads per frame, and frames
// are rare (a subscribe, a pong now and then).
type frameReader struct {
	r     io.Reader
	limit int64 // the largest message accepted, in bytes
	hdr   [8]byte
}

// frame is one frame read from the client, its payload unmasked.
type frame struct {
	fin     bool
	op      byte
	payload []byte
}

// readFrame reads one frame. Client frames must be masked; control frames must be short and
// whole; no extension is negotiated, so the reserved bits must be clear.
func (fr *frameReader) readFrame(sofar int64) (frame, error) {
	if _, err := io.ReadFull(fr.r, fr.hdr[:2]); err != nil {
		return frame{}, err
	}
	f := frame{fin: fr.hdr[0]&0x80 != 0, op: fr.hdr[0] & 0x0F}
	if fr.hdr[0]&0x70 != 0 {
		return frame{}, protocolError("reserved bits set")
	}
	if fr.hdr[1]&0x80 == 0 {
		return frame{}, protocolError("client frames must be masked")
	}
	length := int64(fr.hdr[1] & 0x7F)
	switch length {
	case 126:
		if _, err := io.ReadFull(fr.r, fr.hdr[:2]); err != nil {
			return frame{}, err
		}
		length = int64(binary.BigEndian.Uint16(fr.hdr[:2]))
	case 127:
		if _, err := io.ReadFull(fr.r, fr.hdr[:8]); err != nil {
			return frame{}, err
		}
		length = int64(binary.BigEndian.Uint64(fr.hdr[:8]))
		if length < 0 {
			return frame{}, protocolError("frame length out of range")
		}
	}
	control := f.op >= opClose
	if control && (length > 125 || !f.fin) {
		return frame{}, protocolError("control frames must be whole and at most 125 bytes")
	}
	if !control && fr.limit > 0 && sofar+length > fr.limit {
		return frame{}, &closeError{CloseMessageTooBig, "message too big"}
	}
	var mask [4]byte
	if _, err := io.ReadFull(fr.r, mask[:]); err != nil {
		return frame{}, err
	}
	f.payload = make([]byte, length)
	if _, err := io.ReadFull(fr.r, f.payload); err != nil {
		return frame{}, err
	}
	for i := range f.payload {
		f.payload[i] ^= mask[i&3]
	}
	return f, nil
}

// control is what readMessage met between the frames of messages: pings to answer, pongs.
type controlHandler func(op byte, payload []byte)

// readMessage reads the next whole text message, joining fragments and passing control frames
// to onControl as they come. A close frame ends it with errPeerClosed (the close code, if any,
// is in code); a binary message is a protocol error, since both GraphQL protocols speak JSON text.
func (fr *frameReader) readMessage(onControl controlHandler) (msg []byte, code int, err error) {
	var started bool
	var op byte
	for {
		f, err := fr.readFrame(int64(len(msg)))
		if err != nil {
			return nil, 0, err
		}
		switch f.op {
		case opClose:
			code = CloseNormal
			if len(f.payload) >= 2 {
				code = int(binary.BigEndian.Uint16(f.payload))
			}
			return nil, code, errPeerClosed
		case opPing, opPong:
			onControl(f.op, f.payload)
			continue
		case opText, opBinary:
			if started {
				return nil, 0, protocolError("a new message began before the last one ended")
			}
			started, op = true, f.op
			msg = f.payload
		case opContinuation:
			if !started {
				return nil, 0, protocolError("continuation frame without a message")
			}
			msg = append(msg, f.payload...)
		default:
			return nil, 0, protocolError("unknown opcode")
		}
		if f.fin {
			if op == opBinary {
				return nil, 0, &closeError{CloseInvalidPayload, "binary messages are not accepted"}
			}
			if !utf8.Valid(msg) {
				return nil, 0, &closeError{CloseInvalidPayload, "text message is not UTF-8"}
			}
			return msg, 0, nil
		}
	}
}

// serverFrame returns one unmasked, unfragmented frame, as a server sends them.
func serverFrame(op byte, payload []byte) []byte {
	n := len(payload)
	var b []byte
	switch {
	case n < 126:
		b = make([]byte, 2, 2+n)
		b[1] = byte(n)
	case n <= 0xFFFF:
		b = make([]byte, 4, 4+n)
		b[1] = 126
		binary.BigEndian.PutUint16(b[2:], uint16(n))
	default:
		b = make([]byte, 10, 10+n)
		b[1] = 127
		binary.BigEndian.PutUint64(b[2:], uint64(n))
	}
	b[0] = 0x80 | op
	return append(b, payload...)
}

// closeFrame returns a close frame with code and reason (cut to fit a control frame).
func closeFrame(code int, reason string) []byte {
	if len(reason) > 123 {
		reason = reason[:123]
	}
	p := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	return serverFrame(opClose, append(p, reason...))
}
