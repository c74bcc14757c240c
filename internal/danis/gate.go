package danis

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Gate is the global limit on new conversations: at most Limit a minute
// for the whole channel, and from Near on each new one first answers a
// simple question. It counts conversations, never who starts them, so it
// tracks no child. It also bounds wrong codes for unknown IDs
// (WrongLimit a minute), so that guessing IDs is slow. One Gate per
// process; safe for concurrent use.
type Gate struct {
	Limit, Near, WrongLimit int

	mu     sync.Mutex
	minute int64 // the Unix minute the counts are for
	starts int
	wrong  int
	key    []byte // signs questions; new at each start of the process
}

// The gate's limits unless configured: 30 new conversations a minute for
// the whole city (the question from 23 on), 60 codes for unknown IDs.
const (
	DefaultLimit      = 30
	DefaultWrongLimit = 60
)

// NewGate returns a gate with these limits; near ≤ 0 means 3/4 of limit.
func NewGate(limit, near, wrongLimit int) *Gate {
	if near <= 0 {
		near = limit * 3 / 4
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Gate{Limit: limit, Near: near, WrongLimit: wrongLimit, key: key}
}

// State is what the gate says about a new conversation now.
type State int

const (
	Open     State = iota // start it
	Question              // ask the question first
	Busy                  // try again in a minute
)

func (g *Gate) roll(now time.Time) {
	if m := now.Unix() / 60; m != g.minute {
		g.minute, g.starts, g.wrong = m, 0, 0
	}
}

// Check says whether a new conversation may start now.
func (g *Gate) Check(now time.Time) State {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.roll(now)
	switch {
	case g.starts >= g.Limit:
		return Busy
	case g.starts >= g.Near:
		return Question
	}
	return Open
}

// Started counts a conversation that started.
func (g *Gate) Started(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.roll(now)
	g.starts++
}

// Wrong counts a code for an unknown ID and reports whether the minute's
// budget of those is spent (then codes wait for the next minute).
func (g *Gate) Wrong(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.roll(now)
	g.wrong++
	return g.wrong > g.WrongLimit
}

// WrongSpent reports whether the minute's budget of wrong codes is spent.
func (g *Gate) WrongSpent(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.roll(now)
	return g.wrong >= g.WrongLimit
}

// Ask is a simple question: how much is A + B? Token carries the answer,
// signed, and when it expires; the page sends it back with the answer.
type Ask struct {
	A, B  int
	Token string
}

// askFor is how long a question may be answered.
const askFor = 10 * time.Minute

// NewAsk makes a question.
func (g *Gate) NewAsk(now time.Time) Ask {
	var r [3]byte
	_, _ = rand.Read(r[:])
	a, b := 2+int(r[0])%8, 1+int(r[1])%9
	exp := now.Add(askFor).Unix()
	return Ask{A: a, B: b, Token: g.sign(exp, a+b, r[2])}
}

func (g *Gate) sign(exp int64, answer int, salt byte) string {
	msg := make([]byte, 9)
	binary.BigEndian.PutUint64(msg, uint64(exp))
	msg[8] = salt
	m := hmac.New(sha256.New, g.key)
	m.Write(msg)
	fmt.Fprintf(m, "|%d", answer)
	return base64.RawURLEncoding.EncodeToString(msg) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// CheckAsk reports whether answer answers the question token stands for,
// before it expired.
func (g *Gate) CheckAsk(token, answer string, now time.Time) bool {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return false
	}
	msg, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil || len(msg) != 9 {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(answer))
	if err != nil {
		return false
	}
	exp := int64(binary.BigEndian.Uint64(msg))
	if now.Unix() > exp {
		return false
	}
	return hmac.Equal([]byte(g.sign(exp, n, msg[8])), []byte(token))
}
