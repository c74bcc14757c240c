-- The organisations that work in Dayaq, Baku's districts, and the children
-- registry's core. Districts are reference data seeded here.

-- +goose Up
CREATE TABLE districts (
    code    TEXT PRIMARY KEY,
    name_az TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_en TEXT NOT NULL
);

INSERT INTO districts (code, name_az, name_ru, name_en) VALUES
    ('BAK-01', 'Binəqədi', 'Бинагадинский', 'Binagadi'),
    ('BAK-02', 'Qaradağ', 'Гарадагский', 'Garadagh'),
    ('BAK-03', 'Xətai', 'Хатаинский', 'Khatai'),
    ('BAK-04', 'Xəzər', 'Хазарский', 'Khazar'),
    ('BAK-05', 'Nərimanov', 'Наримановский', 'Narimanov'),
    ('BAK-06', 'Nəsimi', 'Насиминский', 'Nasimi'),
    ('BAK-07', 'Nizami', 'Низаминский', 'Nizami'),
    ('BAK-08', 'Pirallahı', 'Пираллахинский', 'Pirallahi'),
    ('BAK-09', 'Sabunçu', 'Сабунчинский', 'Sabunchu'),
    ('BAK-10', 'Səbail', 'Сабаильский', 'Sabail'),
    ('BAK-11', 'Suraxanı', 'Сураханский', 'Surakhani'),
    ('BAK-12', 'Yasamal', 'Ясамальский', 'Yasamal');

CREATE TABLE orgs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    type          TEXT NOT NULL CHECK (type IN ('city_department', 'district', 'school', 'hotline', 'police',
                      'health', 'social_protection', 'commission', 'state_committee', 'research_centre', 'public_council')),
    name_az       TEXT NOT NULL,
    name_ru       TEXT NOT NULL DEFAULT '',
    name_en       TEXT NOT NULL DEFAULT '',
    district_code TEXT REFERENCES districts (code),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX orgs_type_code ON orgs (type, code);
CREATE INDEX orgs_district_code ON orgs (district_code, code);

CREATE TABLE children (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student_id  TEXT NOT NULL UNIQUE,
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    patronymic  TEXT NOT NULL DEFAULT '',
    sex         TEXT NOT NULL CHECK (sex IN ('m', 'f')),
    birth_date  DATE NOT NULL,
    school_id   BIGINT REFERENCES orgs (id),
    grade       INTEGER NOT NULL CHECK (grade BETWEEN 0 AND 12),
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX children_school ON children (school_id, id);

-- +goose Down
DROP TABLE children;
DROP TABLE orgs;
DROP TABLE districts;
