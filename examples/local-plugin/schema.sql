create table events (id bigserial primary key, at timestamptz not null, payload jsonb not null default '{}');
create table events_archive (like events);
insert into events (at) select now() - make_interval(days => g % 120) from generate_series(1, 5000) g;
