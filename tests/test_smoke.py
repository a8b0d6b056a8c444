def test_home_renders_in_chinese(client):
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    assert "社区议事厅" in html
