package match_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"dayaq/internal/match"
	"dayaq/internal/match/matchgen"
)

// A KeyMaker files every person under exactly Keys' keys: names as the
// demo roster writes them, and the same names in every spelling the recall
// test uses (the same field parsed again from the KeyMaker's memory), with
// and without a date, and a patronymic that is also someone's first name.
func TestKeyMakerSameAsKeys(t *testing.T) {
	ro := newRoster(3, 3000)
	r := rand.New(rand.NewPCG(3, 4))
	var people []match.Person
	for i, c := range ro.children {
		p := ro.person(c)
		people = append(people, p)
		for _, k := range matchgen.Kinds() {
			q := match.Person{LastName: k.Write(r, c), FirstName: c.FirstName, Patronymic: c.FirstName, BirthDate: p.BirthDate}
			if i%2 == 0 {
				q.BirthDate = time.Time{}
			}
			people = append(people, q, match.Person{LastName: c.FirstName, FirstName: c.LastName, Patronymic: c.Patronymic})
		}
	}
	people = append(people, match.Person{}, match.Person{LastName: " ", FirstName: "İLKİN", Patronymic: "Rəşad oğlu"})
	m := match.NewKeyMaker()
	for round := range 2 { // the second round from memory only
		for _, p := range people {
			if got, want := m.Keys(p), match.Keys(p); !slices.Equal(got, want) {
				t.Fatalf("round %d: KeyMaker.Keys(%+v) = %q, want %q", round, p, got, want)
			}
		}
	}
}

func BenchmarkKeys(b *testing.B) {
	ro := newRoster(3, 20000)
	people := make([]match.Person, len(ro.children))
	for i, c := range ro.children {
		people[i] = ro.person(c)
	}
	b.Run("Keys", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			match.Keys(people[i%len(people)])
		}
	})
	b.Run("KeyMaker", func(b *testing.B) {
		m := match.NewKeyMaker()
		for i := 0; b.Loop(); i++ {
			m.Keys(people[i%len(people)])
		}
	})
}
