"""Money: yuan text at the edges, integer fen inside."""
import pytest

from civic.money import MAX_FEN, format_fen, parse_yuan


@pytest.mark.parametrize("text,fen", [
    ("0", 0), ("12500", 1_250_000), ("12,500.5", 1_250_050), ("¥12500.50", 1_250_050),
    ("￥ 0.01", 1), ("  3.10 ", 310), ("1，000", 100_000), ("0.1", 10)])
def test_parse_yuan(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "  ", "abc", "-1", "1.001", "1e3", "NaN", "Infinity",
                                  "1.2.3", str(MAX_FEN)])
def test_parse_yuan_refuses(text):
    with pytest.raises(ValueError):
        parse_yuan(text)


@pytest.mark.parametrize("fen,text", [(0, "0.00"), (1, "0.01"), (1_250_050, "12,500.50"),
                                      (-310, "-3.10"), (None, "")])
def test_format_fen(fen, text):
    assert format_fen(fen) == text


def test_round_trip_is_exact():
    for fen in (0, 1, 99, 100, 123_456_789, 10**11 + 7):
        assert parse_yuan(format_fen(fen)) == fen
