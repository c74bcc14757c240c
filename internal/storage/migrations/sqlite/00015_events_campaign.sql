-- Parent awareness events (a topic catalogue with materials, events planned
-- by schools, attendance by head count and by pupil, anonymous feedback) and
-- the "Mənimlə danış" campaign (a library of materials, showings in schools,
-- figures imported from outside). ADRs 0022 and 0023.

-- +goose Up
CREATE TABLE event_topics (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    title_az    TEXT NOT NULL,
    title_ru    TEXT NOT NULL,
    title_en    TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

-- Files sealed in the blob store, like case attachments: a topic's
-- materials (topic_id) or a campaign material's file (campaign_id).
CREATE TABLE event_files (
    id            INTEGER PRIMARY KEY,
    topic_id      INTEGER REFERENCES event_topics (id),
    campaign_id   INTEGER,
    name          TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    blob_key      TEXT NOT NULL UNIQUE,
    created_by    INTEGER,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX event_files_topic ON event_files (topic_id);
CREATE INDEX event_files_campaign ON event_files (campaign_id);

CREATE TABLE parent_events (
    id              INTEGER PRIMARY KEY,
    school_id       INTEGER NOT NULL REFERENCES orgs (id),
    starts_at       TIMESTAMP NOT NULL,
    place           TEXT NOT NULL,
    whole_school    BOOLEAN NOT NULL,
    classes         TEXT NOT NULL DEFAULT '',
    speaker_kind    TEXT NOT NULL CHECK (speaker_kind IN ('psychologist', 'teacher', 'invited')),
    speaker_body    TEXT NOT NULL DEFAULT '',
    speaker_name    TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('planned', 'held', 'cancelled')),
    head_count      INTEGER NOT NULL DEFAULT 0,
    notes           TEXT NOT NULL DEFAULT '',
    materials_used  TEXT NOT NULL DEFAULT '',
    feedback_code   TEXT NOT NULL UNIQUE,
    version         INTEGER NOT NULL DEFAULT 1,
    created_by      INTEGER,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX parent_events_school ON parent_events (school_id, starts_at);
CREATE INDEX parent_events_starts ON parent_events (starts_at);

CREATE TABLE parent_event_topics (
    event_id  INTEGER NOT NULL REFERENCES parent_events (id) ON DELETE CASCADE,
    topic_id  INTEGER NOT NULL REFERENCES event_topics (id),
    PRIMARY KEY (event_id, topic_id)
);
CREATE INDEX parent_event_topics_topic ON parent_event_topics (topic_id);

-- The materials chosen for an event: a topic's or a campaign material's files.
CREATE TABLE parent_event_files (
    event_id  INTEGER NOT NULL REFERENCES parent_events (id) ON DELETE CASCADE,
    file_id   INTEGER NOT NULL REFERENCES event_files (id),
    PRIMARY KEY (event_id, file_id)
);

-- Which pupils' parents came: per child, so that the register and the
-- recovery plans can show whether the parents of pupils at risk attend.
CREATE TABLE parent_event_attendance (
    event_id     INTEGER NOT NULL REFERENCES parent_events (id) ON DELETE CASCADE,
    child_id     INTEGER NOT NULL REFERENCES children (id),
    recorded_by  INTEGER,
    recorded_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (event_id, child_id)
);
CREATE INDEX parent_event_attendance_child ON parent_event_attendance (child_id);

-- Anonymous feedback: no address, no browser, no time finer than the day.
CREATE TABLE event_feedback (
    id          INTEGER PRIMARY KEY,
    event_id    INTEGER NOT NULL REFERENCES parent_events (id) ON DELETE CASCADE,
    usefulness  INTEGER NOT NULL CHECK (usefulness BETWEEN 1 AND 5),
    clear_text  TEXT NOT NULL DEFAULT '',
    next_topic  TEXT NOT NULL DEFAULT '',
    comment     TEXT NOT NULL DEFAULT '',
    lang        TEXT NOT NULL,
    day         TEXT NOT NULL
);
CREATE INDEX event_feedback_event ON event_feedback (event_id);

CREATE TABLE campaign_materials (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('video', 'poster', 'leaflet')),
    title         TEXT NOT NULL,
    languages     TEXT NOT NULL,
    edition       TEXT NOT NULL DEFAULT '',
    audience      TEXT NOT NULL CHECK (audience IN ('children', 'parents', 'staff')),
    external_url  TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL DEFAULT 1,
    created_by    INTEGER,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

CREATE TABLE campaign_showings (
    id           INTEGER PRIMARY KEY,
    school_id    INTEGER NOT NULL REFERENCES orgs (id),
    material_id  INTEGER NOT NULL REFERENCES campaign_materials (id),
    shown_at     TIMESTAMP NOT NULL,
    classes      TEXT NOT NULL DEFAULT '',
    pupils       INTEGER NOT NULL,
    parents      INTEGER NOT NULL,
    shown_by     TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    created_by   INTEGER,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX campaign_showings_school ON campaign_showings (school_id, shown_at);
CREATE INDEX campaign_showings_shown ON campaign_showings (shown_at);

CREATE TABLE campaign_figures (
    id            INTEGER PRIMARY KEY,
    material_id   INTEGER REFERENCES campaign_materials (id),
    district      TEXT NOT NULL DEFAULT '',
    metric        TEXT NOT NULL,
    value         INTEGER NOT NULL,
    period_start  TIMESTAMP NOT NULL,
    period_end    TIMESTAMP NOT NULL,
    source        TEXT NOT NULL,
    as_of         TIMESTAMP NOT NULL,
    created_by    INTEGER,
    created_at    TIMESTAMP NOT NULL
);

INSERT INTO event_topics (code, title_az, title_ru, title_en, created_at, updated_at) VALUES
 ('age.primary', 'Yaş xüsusiyyətləri: ibtidai sinif (6–10 yaş)', 'Возрастные особенности: начальная школа (6–10 лет)', 'Age features: primary school (6–10)', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
 ('age.adolescence', 'Yaş xüsusiyyətləri: yeniyetməlik (11–14 yaş)', 'Возрастные особенности: подростки (11–14 лет)', 'Age features: early adolescence (11–14)', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
 ('age.senior', 'Yaş xüsusiyyətləri: yuxarı siniflər (15–17 yaş)', 'Возрастные особенности: старшие классы (15–17 лет)', 'Age features: senior classes (15–17)', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
 ('psychological', 'Psixoloji inkişaf', 'Психологическое развитие', 'Psychological development', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
 ('physiological', 'Fizioloji inkişaf və yetkinləşmə', 'Физиологическое развитие и половое созревание', 'Physiological development and puberty', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
 ('online_safety', 'İnternetdə təhlükəsizlik', 'Безопасность в интернете', 'Online safety', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
 ('bullying', 'Bullinq (zorbalıq)', 'Буллинг (травля)', 'Bullying', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
 ('exam_stress', 'İmtahan stresi', 'Экзаменационный стресс', 'Exam stress', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
 ('distress_signs', 'Narahatlıq əlamətləri və haradan kömək almaq olar', 'Признаки неблагополучия и куда обратиться за помощью', 'Signs of distress and where to get help', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
 ('family_communication', 'Ailədə ünsiyyət', 'Общение в семье', 'Family communication', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
 ('substance_use', 'Zərərli maddələrin istifadəsi', 'Употребление психоактивных веществ', 'Substance use', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
 ('screen_time', 'Ekran vaxtı və yuxu', 'Экранное время и сон', 'Screen time and sleep', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

-- +goose Down
DROP TABLE campaign_figures;
DROP TABLE campaign_showings;
DROP TABLE campaign_materials;
DROP TABLE event_feedback;
DROP TABLE parent_event_attendance;
DROP TABLE parent_event_files;
DROP TABLE parent_event_topics;
DROP TABLE parent_events;
DROP TABLE event_files;
DROP TABLE event_topics;
