-- Inter-agency referrals: a case is referred to a body for a service from a
-- configurable list, with urgency, a message, what the sender chose to share
-- and the consent or legal basis for sharing it. Each change of state is a
-- row of referral_events (for the board's medians) and an entry in the
-- case's chronology, which therefore learns the kind 'referral'. The live
-- referral's child_grants row (grant_id) gives the receiving body its view
-- of the child; ending the referral ends the grant.

-- +goose Up
CREATE TABLE referral_services (
    code      TEXT PRIMARY KEY,
    org_type  TEXT NOT NULL,
    name_az   TEXT NOT NULL,
    name_ru   TEXT NOT NULL DEFAULT '',
    name_en   TEXT NOT NULL DEFAULT '',
    position  INTEGER NOT NULL DEFAULT 0,
    active    BOOLEAN NOT NULL DEFAULT TRUE
);
INSERT INTO referral_services (code, org_type, position, name_az, name_ru, name_en) VALUES
    ('police.home_visit', 'police', 10, 'Ailəyə baxış (evə gediş)', 'Посещение семьи на дому', 'Home visit to the family'),
    ('police.protection', 'police', 20, 'Uşağın təhlükəsizliyinin təmin edilməsi', 'Обеспечение безопасности ребёнка', 'Ensuring the child''s safety'),
    ('police.investigation', 'police', 30, 'Hüquqpozmanın araşdırılması', 'Расследование правонарушения', 'Investigating an offence'),
    ('health.medical_exam', 'health', 10, 'Tibbi müayinə', 'Медицинское обследование', 'Medical examination'),
    ('health.mental_health', 'health', 20, 'Psixi sağlamlıq yardımı', 'Помощь в области психического здоровья', 'Mental-health care'),
    ('health.rehabilitation', 'health', 30, 'Reabilitasiya', 'Реабилитация', 'Rehabilitation'),
    ('social.targeted_assistance', 'social_protection', 10, 'Ünvanlı dövlət sosial yardımı', 'Адресная государственная социальная помощь', 'Targeted state social assistance'),
    ('social.benefits', 'social_protection', 20, 'Müavinət və təqaüdlər', 'Пособия и выплаты', 'Benefits and allowances'),
    ('commission.protection_decision', 'commission', 10, 'Müdafiə tədbiri barədə qərar', 'Решение о мерах защиты', 'Decision on protective measures'),
    ('commission.hearing', 'commission', 20, 'Komissiya iclasında baxılma', 'Рассмотрение на заседании комиссии', 'Hearing at the commission'),
    ('committee.family_support', 'state_committee', 10, 'Ailəyə dəstək xidməti', 'Служба поддержки семьи', 'Family support service'),
    ('committee.shelter', 'state_committee', 20, 'Müvəqqəti sığınacaq', 'Временное убежище', 'Temporary shelter'),
    ('school.psych_support', 'school', 10, 'Psixoloji dəstək', 'Психологическая поддержка', 'Psychological support'),
    ('school.recovery_plan', 'school', 20, 'Fərdi pedaqoji-psixoloji bərpa planı', 'Индивидуальный педагогико-психологический план восстановления', 'Individual recovery plan'),
    ('city.case_conference', 'city_department', 10, 'İşçi qrupunda müzakirə', 'Обсуждение в рабочей группе', 'Discussion in the working group'),
    ('city.coordination', 'city_department', 20, 'Qurumlararası koordinasiya', 'Межведомственная координация', 'Inter-agency coordination'),
    ('district.commission_referral', 'district', 10, 'Rayon icra hakimiyyətinin tədbiri', 'Мера районной исполнительной власти', 'Measure of the district executive authority');

CREATE TABLE referrals (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id          BIGINT NOT NULL REFERENCES cases (id),
    child_id         BIGINT NOT NULL REFERENCES children (id),
    from_org_id      BIGINT NOT NULL REFERENCES orgs (id),
    to_org_id        BIGINT NOT NULL REFERENCES orgs (id),
    service_code     TEXT NOT NULL REFERENCES referral_services (code),
    urgency          TEXT NOT NULL CHECK (urgency IN ('critical', 'high', 'medium', 'low')),
    message          TEXT NOT NULL,
    share            TEXT NOT NULL DEFAULT '',   -- the case's sections shared, comma-separated
    basis            TEXT NOT NULL CHECK (basis IN ('consent', 'child_in_danger', 'court_request', 'commission_request', 'override')),
    consent_by       TEXT NOT NULL DEFAULT '',
    consent_relation TEXT NOT NULL DEFAULT '',
    consent_method   TEXT NOT NULL DEFAULT '',
    consent_at       TIMESTAMPTZ,
    basis_reference  TEXT NOT NULL DEFAULT '',
    override_reason  TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL CHECK (state IN ('sent', 'acknowledged', 'accepted', 'declined', 'in_progress', 'completed', 'withdrawn')),
    note             TEXT NOT NULL DEFAULT '',   -- the last reason or feedback
    sent_by          BIGINT REFERENCES users (id),
    sent_at          TIMESTAMPTZ NOT NULL,
    ack_due          TIMESTAMPTZ NOT NULL,
    complete_due     TIMESTAMPTZ NOT NULL,
    ack_at           TIMESTAMPTZ,
    closed_at        TIMESTAMPTZ,
    due_at           TIMESTAMPTZ,                        -- the deadline running now; NULL once ended
    grant_id         BIGINT REFERENCES child_grants (id),
    version          INTEGER NOT NULL DEFAULT 1,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX referrals_to ON referrals (to_org_id, state, id);
CREATE INDEX referrals_from ON referrals (from_org_id, id);
CREATE INDEX referrals_case ON referrals (case_id, id);
CREATE INDEX referrals_due ON referrals (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE referral_events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    referral_id   BIGINT NOT NULL REFERENCES referrals (id),
    at            TIMESTAMPTZ NOT NULL,
    actor_user_id BIGINT,
    actor_org_id  BIGINT,
    from_state    TEXT NOT NULL DEFAULT '',
    to_state      TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX referral_events_referral ON referral_events (referral_id, id);

ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check;
ALTER TABLE case_events ADD CONSTRAINT case_events_kind_check CHECK (kind IN ('created', 'transition', 'updated', 'note', 'task', 'task_status',
                      'attachment', 'contact_linked', 'child_linked', 'referral'));

-- +goose Down
ALTER TABLE case_events DROP CONSTRAINT case_events_kind_check;
ALTER TABLE case_events ADD CONSTRAINT case_events_kind_check CHECK (kind IN ('created', 'transition', 'updated', 'note', 'task', 'task_status',
                      'attachment', 'contact_linked', 'child_linked'));
DROP TABLE referral_events;
DROP TABLE referrals;
DROP TABLE referral_services;
