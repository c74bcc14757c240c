package demo

import (
	"context"
	"fmt"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/danis"
	"dayaq/internal/storage"
)

// LoadDanis starts two "Mənimlə danış" conversations, as children would:
// one waits for an operator, the other the demo operator has taken and
// answered. Neither is urgent, so no demo alert is raised. Their codes are
// not kept anywhere (a child's code is shown once), so the demo shows the
// operators' side; the child's side is tried by writing at /danis.
func LoadDanis(ctx context.Context, db *storage.DB) error {
	if _, err := db.StartDanis(ctx, danis.Message{Text: "Salam. Sinifdə uşaqlar mənə gülürlər və telefonuma pis şeylər yazırlar. Müəllimə demək istəmirəm.",
		Age: 12, District: "BAK-06", Upset: 4}, "az"); err != nil {
		return fmt.Errorf("demo.LoadDanis: %w", err)
	}
	st, err := db.StartDanis(ctx, danis.Message{Text: "Здравствуйте. Родители всё время ругаются, я не могу спать и учиться.",
		Age: 15, Upset: 5}, "ru")
	if err != nil {
		return fmt.Errorf("demo.LoadDanis: %w", err)
	}
	if err := db.CloseDanis(ctx, st.Token); err != nil {
		return fmt.Errorf("demo.LoadDanis: %w", err)
	}
	var op audit.Actor
	for _, s := range SignIns() {
		if s.Role == access.HotlineOperator {
			u, err := db.UserByEmail(ctx, s.Email)
			if err != nil {
				return fmt.Errorf("demo.LoadDanis: %w", err)
			}
			p, err := db.PrincipalForUser(ctx, u.ID)
			if err != nil {
				return fmt.Errorf("demo.LoadDanis: %w", err)
			}
			op = audit.Actor{Principal: p, RequestID: "demo"}
		}
	}
	if !op.Authenticated() {
		return nil // no demo operator: the first conversation is enough
	}
	id := st.Conversation.ContactID
	if err := db.TakeDanis(ctx, op, id); err != nil {
		return fmt.Errorf("demo.LoadDanis: %w", err)
	}
	if err := db.AnswerDanis(ctx, op, id, "Здравствуй. Спасибо, что написал(а). Это тяжело — не спать из-за ссор дома. Расскажи, как давно это происходит?"); err != nil {
		return fmt.Errorf("demo.LoadDanis: %w", err)
	}
	return nil
}
