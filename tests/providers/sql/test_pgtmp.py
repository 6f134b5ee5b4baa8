import sqlalchemy as sa
def test_pg(postgres_url):
    e = sa.create_engine(postgres_url)
    with e.connect() as c:
        assert c.execute(sa.text("select 1")).scalar() == 1
