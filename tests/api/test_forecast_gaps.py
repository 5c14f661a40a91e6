"""/forecast over a history with gaps within the continuity limits says how many intervals were missing."""


def test_the_forecast_endpoint_reports_the_missing_history(client):
    # The genuine file's 47 rejected readings of 2018-01-02 fall in the 28 days before 2018-01-29.
    body = client.get("/forecast", params={"day": "2018-01-29"}).json()
    assert body["history_missing_intervals"] == 47 and len(body["intervals"]) == 96
    assert client.get("/forecast", params={"day": "2018-11-14"}).json()["history_missing_intervals"] == 0
