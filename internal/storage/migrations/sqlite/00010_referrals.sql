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
    id               INTEGER PRIMARY KEY,
    case_id          INTEGER NOT NULL REFERENCES cases (id),
    child_id         INTEGER NOT NULL REFERENCES children (id),
    from_org_id      INTEGER NOT NULL REFERENCES orgs (id),
    to_org_id        INTEGER NOT NULL REFERENCES orgs (id),
    service_code     TEXT NOT NULL REFERENCES referral_services (code),
    urgency          TEXT NOT NULL CHECK (urgency IN ('critical', 'high', 'medium', 'low')),
    message          TEXT NOT NULL,
    share            TEXT NOT NULL DEFAULT '',   -- the case's sections shared, comma-separated
    basis            TEXT NOT NULL CHECK (basis IN ('consent', 'child_in_danger', 'court_request', 'commission_request', 'override')),
    consent_by       TEXT NOT NULL DEFAULT '',
    consent_relation TEXT NOT NULL DEFAULT '',
    consent_method   TEXT NOT NULL DEFAULT '',
    consent_at       TIMESTAMP,
    basis_reference  TEXT NOT NULL DEFAULT '',
    override_reason  TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL CHECK (state IN ('sent', 'acknowledged', 'accepted', 'declined', 'in_progress', 'completed', 'withdrawn')),
    note             TEXT NOT NULL DEFAULT '',   -- the last reason or feedback
    sent_by          INTEGER REFERENCES users (id),
    sent_at          TIMESTAMP NOT NULL,
    ack_due          TIMESTAMP NOT NULL,
    complete_due     TIMESTAMP NOT NULL,
    ack_at           TIMESTAMP,
    closed_at        TIMESTAMP,
    due_at           TIMESTAMP,                        -- the deadline running now; NULL once ended
    grant_id         INTEGER REFERENCES child_grants (id),
    version          INTEGER NOT NULL DEFAULT 1,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX referrals_to ON referrals (to_org_id, state, id);
CREATE INDEX referrals_from ON referrals (from_org_id, id);
CREATE INDEX referrals_case ON referrals (case_id, id);
CREATE INDEX referrals_due ON referrals (due_at) WHERE due_at IS NOT NULL;

CREATE TABLE referral_events (
    id            INTEGER PRIMARY KEY,
    referral_id   INTEGER NOT NULL REFERENCES referrals (id),
    at            TIMESTAMP NOT NULL,
    actor_user_id INTEGER,
    actor_org_id  INTEGER,
    from_state    TEXT NOT NULL DEFAULT '',
    to_state      TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX referral_events_referral ON referral_events (referral_id, id);

-- SQLite cannot change a CHECK constraint: case_events is rebuilt with the new kind.
CREATE TABLE case_events_new (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    at            TIMESTAMP NOT NULL,
    actor_user_id INTEGER,
    actor_org_id  INTEGER,
    kind          TEXT NOT NULL CHECK (kind IN ('created', 'transition', 'updated', 'note', 'task', 'task_status',
                      'attachment', 'contact_linked', 'child_linked', 'referral')),
    payload       TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO case_events_new SELECT id, case_id, at, actor_user_id, actor_org_id, kind, payload FROM case_events;
DROP TABLE case_events;
ALTER TABLE case_events_new RENAME TO case_events;
CREATE INDEX case_events_case ON case_events (case_id, id);

-- +goose Down
DELETE FROM case_events WHERE kind = 'referral';
DROP TABLE referral_events;
DROP TABLE referrals;
DROP TABLE referral_services;
