from django.urls import reverse


def test_home_page_renders_for_a_grid_worker(client, cast):
    client.force_login(cast.worker_a)
    response = client.get(reverse("governance-home"))
    assert response.status_code == 200
    assert "340102001001001" in response.content.decode()
