"""The course's lessons: the lesson player and the arithmetic view and dock."""
