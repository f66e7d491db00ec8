"""The words a reply compares sentences by: their roots without function words, read once per text."""

from core.agents import response


def test_a_sentence_reads_as_its_roots_without_function_words_and_a_temperature_as_temperature():
    words = response._words("Shipping is free from 75 $ and the water should be at 70 °C")
    assert response._root("shipping") in words and response._root("water") in words
    assert not {"the", "and", "is"} & words
    assert response._TEMPERATURE <= words
    assert not response._TEMPERATURE <= response._words("Shipping is free from 75 $")


def test_the_words_of_a_text_are_read_once_and_equal_a_fresh_reading():
    text = "Les commandes partent du lundi au vendredi, sauf les jours fériés."
    first = response._words(text)
    assert response._words(text) is first
    response._words.cache_clear()
    again = response._words(text)
    assert again == first and again is not first
