package postgres

// Test handles on unexported parts, for the package's external tests.

// WriteBehindTx is writeBehindTx (writebehind.go).
type WriteBehindTx = writeBehindTx

// InWriteBehindTx is inWriteBehindTx.
var InWriteBehindTx = inWriteBehindTx

// Write is write.
func (t *writeBehindTx) Write(what, sql string, args ...any) { t.write(what, sql, args...) }

// WriteOne is writeOne.
func (t *writeBehindTx) WriteOne(what, sql string, args ...any) { t.writeOne(what, sql, args...) }

// ClaimOutboxSQL is claimOutboxSQL (outbox.go).
const ClaimOutboxSQL = claimOutboxSQL
