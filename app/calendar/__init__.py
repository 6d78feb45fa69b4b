"""The working-day calendar: weekends, Vietnamese public holidays and the staff's overrides."""
